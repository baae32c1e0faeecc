"""Writes the fuzzers' seed corpus to fuzz/seeds: one small file per format the decoders and
the archive reader know (zip, nested zip, gzip, tar, tar.gz, base64 YAML, wrapped base64,
UTF-16 LE/BE). The key-shaped string is a filler, assembled so no key literal is stored."""
import base64
import gzip
import io
import pathlib
import tarfile
import zipfile

out = pathlib.Path(__file__).parent / "seeds"
out.mkdir(exist_ok=True)
key = "sk-proj-" + "x" * 40 + "T3Blbk" + "FJ" + "y" * 40


def tar(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("c/.env")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zipped(name: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


env = f"A=1\nK={key}\n".encode()
(out / "a.zip").write_bytes(zipped("inner/.env", env))
(out / "nested.zip").write_bytes(zipped("n.jar", zipped("inner/.env", env), zipfile.ZIP_STORED))
(out / "a.gz").write_bytes(gzip.compress(b"log line\nkey " + key.encode()))
(out / "a.tar").write_bytes(tar(env))
(out / "a.tgz").write_bytes(gzip.compress(tar(env)))
(out / "b64.yaml").write_text("data:\n  K: " + base64.b64encode(key.encode()).decode() + "\n")
(out / "wrapped.pem").write_text(base64.encodebytes(("x=" + key).encode() * 2).decode())
(out / "u16.txt").write_bytes(("\ufeffK=" + key + "\r\n").encode("utf-16-le"))
(out / "u16be.txt").write_bytes(("K=" + key + "\n").encode("utf-16-be"))
