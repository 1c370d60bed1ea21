//! `manifest-level-fuzz report`: a campaign's page from its findings file, for a campaign
//! run without `--report`, killed before it ended, or run on another machine.

use std::path::PathBuf;
use std::process::ExitCode;

use super::EXIT_USAGE;
use crate::campaign::report::{CampaignReport, ReportHeading};

/// `manifest-level-fuzz report`: writes the page of the last campaign in a findings file.
#[derive(Clone, Debug, clap::Args)]
pub struct ReportArgs {
    /// The findings file a campaign wrote (its last campaign is reported: the lines after
    /// the one but last summary line).
    #[arg(long, value_name = "FILE", default_value = "campaign-findings.jsonl")]
    pub findings: PathBuf,

    /// Where the page goes: DIR/index.html.
    #[arg(long, value_name = "DIR", default_value = "campaign-report")]
    pub out: PathBuf,
}

/// Runs `manifest-level-fuzz report`: exit 0 with the page written, 2 when the findings
/// file cannot be read or holds a line that is not a finding, or the page cannot be
/// written.
pub fn run_cli(args: &ReportArgs) -> ExitCode {
    let fail = |message: String| {
        eprintln!("error: {message}");
        ExitCode::from(EXIT_USAGE)
    };
    let text = match std::fs::read_to_string(&args.findings) {
        Ok(text) => text,
        Err(error) => {
            return fail(format!(
                "findings file {}: {error}",
                args.findings.display()
            ))
        }
    };
    let heading = ReportHeading {
        target: String::new(),
        description: format!("findings file {}", args.findings.display()),
        stored_failures: None,
    };
    let report = match CampaignReport::from_findings(heading, &text) {
        Ok(report) => report,
        Err(error) => {
            return fail(format!(
                "findings file {}: {error}",
                args.findings.display()
            ))
        }
    };
    match report.write(&args.out) {
        Ok(path) => {
            println!(
                "report: {} ({} seeds, {} failed)",
                path.display(),
                report.seeds(),
                report.failures()
            );
            ExitCode::SUCCESS
        }
        Err(error) => fail(format!("report {}: {error}", args.out.display())),
    }
}
