//! Writes go only where the user said: never through a symlink, never outside the repository unless the path came from the command line.
