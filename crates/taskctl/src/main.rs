fn main() {
    supervisor::shim::run_if_invoked();
    std::process::exit(taskctl::main());
}
