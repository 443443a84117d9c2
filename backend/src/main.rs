fn main() -> std::process::ExitCode {
    wns::cli::main()
}
