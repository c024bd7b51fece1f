//! The `certrail` binary: parses the command line and starts the server or a command.

use std::process::ExitCode;

use clap::Parser;

use certrail::cli::{self, AdminCommand, Cli, Command};

/// glibc's malloc raises its mmap threshold after large frees, so the megabyte-sized buffers
/// of bulk issuance end up in per-thread heaps that are never given back. A fixed threshold
/// keeps them mapped and returned, and fewer arenas bound what the heaps keep.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn tune_malloc() {
    // SAFETY: mallopt only sets allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn main() -> ExitCode {
    tune_malloc();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    // Commands that talk to a platform from outside need none of its configuration.
    let outside = match &cli.command {
        Some(Command::Witness { command }) => Some(cli::witness::run(command)),
        Some(Command::Verify(args)) => Some(cli::verify::run(args)),
        Some(Command::Sign { command }) => Some(cli::sign::run(command)),
        _ => None,
    };
    if let Some(outcome) = outside {
        return match outcome {
            Ok(code) => ExitCode::from(code),
            Err(message) => {
                eprintln!("certrail: {message}");
                ExitCode::FAILURE
            }
        };
    }
    let result = cli.config().and_then(|config| match &cli.command {
        None | Some(Command::Serve) => {
            actix_web::rt::System::new().block_on(certrail::startup::serve(config))
        }
        Some(Command::Admin {
            command: AdminCommand::Token,
        }) => cli::admin::token(config),
        Some(Command::Admin {
            command:
                AdminCommand::User {
                    organization,
                    username,
                    platform_admin,
                },
        }) => cli::admin::user(config, organization, username, *platform_admin),
        Some(Command::Admin {
            command: AdminCommand::Onboard { csv },
        }) => cli::admin::onboard(config, csv),
        Some(Command::Admin {
            command:
                AdminCommand::Deactivate {
                    organization,
                    reason,
                },
        }) => cli::admin::deactivate(config, organization, reason),
        Some(Command::Admin {
            command: AdminCommand::ResetPassword { username },
        }) => cli::admin::reset_password(config, username),
        Some(Command::Admin {
            command: AdminCommand::CompromiseKey { kid, since },
        }) => cli::admin::compromise_key(config, kid, since),
        Some(Command::Demo) => cli::demo(config),
        Some(Command::Check) => cli::ops::check(&config),
        Some(Command::Backup { dest }) => cli::ops::backup(&config, dest),
        Some(Command::Issue { csv, token, out }) => {
            cli::issue_csv(config, csv, token, out.as_deref())
        }
        Some(Command::Promise { csv, token, out }) => {
            cli::promise_csv(config, csv, token, out.as_deref())
        }
        Some(Command::Limits { seconds }) => cli::measure::limits(*seconds),
        Some(Command::Bare { bind }) => actix_web::rt::System::new().block_on(cli::bare(bind)),
        Some(Command::Pilot { count }) => cli::measure::pilot(config, *count),
        Some(Command::Witness { .. } | Command::Verify(_) | Command::Sign { .. }) => {
            unreachable!("handled above")
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("certrail: {message}");
            ExitCode::FAILURE
        }
    }
}
