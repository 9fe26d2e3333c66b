// No console window on Windows; Tasktray is a tray app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // The binary is also each task's shim (see supervisor::shim); that must come first.
    supervisor::shim::run_if_invoked();
    tasktray::run();
}
