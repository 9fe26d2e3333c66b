//! Paths on the command line; where the data is kept is the core's rule.

use std::path::PathBuf;

pub use supervisor::paths::data_dir;

/// `path` made absolute against the current directory.
pub fn absolute(path: PathBuf) -> Result<PathBuf, String> {
    std::path::absolute(&path).map_err(|e| format!("cannot resolve {}: {e}", path.display()))
}
