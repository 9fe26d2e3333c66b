//! Where Tasktray keeps its data: every host (the app, `taskctl`, the API) must agree, so the
//! one rule lives here. The supervisor itself never picks a path; hosts pass it in.

use std::path::PathBuf;

/// `TASKTRAY_DATA_DIR`, else `$XDG_DATA_HOME/tasktray`, else `~/.local/share/tasktray`.
pub fn data_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("TASKTRAY_DATA_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return std::path::absolute(&dir)
            .map_err(|e| format!("cannot resolve {}: {e}", dir.display()));
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        let xdg = PathBuf::from(xdg);
        if xdg.is_absolute() {
            return Ok(xdg.join("tasktray"));
        }
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/tasktray")),
        None => Err("cannot find a data folder: set TASKTRAY_DATA_DIR or HOME".into()),
    }
}
