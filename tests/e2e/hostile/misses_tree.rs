//! No silent miss in a work tree or index: tracked files that are also ignored, a regular file named .git, CR-only line ends, staged symlinks, hostile ignore files.
