//! The machine a run happened on, for the report.

use std::process::Command;

/// Cores, CPU model, the filesystem holding the databases.
pub fn describe(database_dir: &std::path::Path) -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("MemTotal"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map_or_else(
            || "unknown".into(),
            |kib| format!("{} GiB", kib / 1024 / 1024),
        );
    let disk = Command::new("df")
        .args(["-T", "-h"])
        .arg(database_dir)
        .output()
        .ok()
        .and_then(|output| {
            String::from_utf8(output.stdout)
                .ok()?
                .lines()
                .nth(1)
                .map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    format!(
                        "{} ({}, {} total)",
                        fields.first().unwrap_or(&"?"),
                        fields.get(1).unwrap_or(&"?"),
                        fields.get(2).unwrap_or(&"?")
                    )
                })
        })
        .unwrap_or_else(|| "unknown disk".into());
    format!("{cores} cores ({cpu}), {memory} RAM, databases on {disk}")
}
