//! A stand-alone shim binary, for hosts that would rather not re-execute themselves.
fn main() {
    supervisor::shim::run_if_invoked();
    eprintln!("tasktray-shim is started by Tasktray, not by hand");
    std::process::exit(2);
}
