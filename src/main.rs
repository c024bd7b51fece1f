//! The `certrail` binary: parses the command line and starts the server or a command.

use std::process::ExitCode;

use clap::Parser;

use certrail::cli::{self, AdminCommand, Cli, Command};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let result = cli.config().and_then(|config| match &cli.command {
        None | Some(Command::Serve) => {
            actix_web::rt::System::new().block_on(certrail::startup::serve(config))
        }
        Some(Command::Admin {
            command: AdminCommand::Token,
        }) => cli::admin_token(config),
        Some(Command::Admin {
            command:
                AdminCommand::User {
                    organization,
                    username,
                },
        }) => cli::admin_user(config, organization, username),
        Some(Command::Admin {
            command: AdminCommand::ResetPassword { username },
        }) => cli::admin_reset_password(config, username),
        Some(Command::Demo) => cli::demo(config),
        Some(Command::Issue { csv, token, out }) => {
            cli::issue_csv(config, csv, token, out.as_deref())
        }
        Some(Command::Limits { seconds }) => cli::limits(*seconds),
        Some(Command::Pilot { count }) => cli::pilot(config, *count),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("certrail: {message}");
            ExitCode::FAILURE
        }
    }
}
