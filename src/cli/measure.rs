//! `certrail pilot` and `certrail limits`: the runs that measure what certrail does at scale
//! and what the machine itself can do, printed for the performance chapter.

use crate::config::Config;
use crate::service::AppState;

/// `certrail pilot --count N`: issues N certificates and prints what it measured.
pub fn pilot(config: Config, count: usize) -> Result<(), String> {
    let backend = config
        .database_url
        .split(':')
        .next()
        .unwrap_or("")
        .to_string();
    let state = AppState::open(config)?;
    let bar = super::progress_bar(count);
    let report = crate::pilot::run(&state, count, |done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    println!("backend                 {backend}");
    println!("certificates            {}", report.certificates);
    println!(
        "time                    {:.1} s (issued in {:.1} s, then the log caught up)",
        report.elapsed.as_secs_f64(),
        report.issuance.as_secs_f64()
    );
    println!("certificates/s          {:.0}", report.per_second());
    println!("trail events after      {}", report.trail_events);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let us = |d: std::time::Duration| d.as_secs_f64() * 1e6;
    let (cold, warm) = (
        (us(report.verify_p50), us(report.verify_p99)),
        (us(report.warm_p50), us(report.warm_p99)),
    );
    println!(
        "report (30 days)        {:.0} ms, CSV and .xlsx {:.0} ms",
        ms(report.report),
        ms(report.report_files)
    );
    println!(
        "bytes per certificate   {:.0}",
        report.bytes_per_certificate
    );
    println!(
        "verify p50 / p99 cold   {:.0} µs / {:.0} µs",
        cold.0, cold.1
    );
    println!(
        "verify p50 / p99 warm   {:.0} µs / {:.0} µs",
        warm.0, warm.1
    );
    Ok(())
}

/// `certrail limits`: raw Ed25519 rates on all cores.
pub fn limits(seconds: f64) -> Result<(), String> {
    let limits = crate::pilot::crypto_limits(seconds);
    println!("threads     {}", limits.threads);
    println!("sign/s      {:.0}", limits.sign_per_second);
    println!("verify/s    {:.0}", limits.verify_per_second);
    Ok(())
}
