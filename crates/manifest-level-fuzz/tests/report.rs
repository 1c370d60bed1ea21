//! `campaign --report DIR` and `report`: the page of a campaign with a planted fault shows
//! every failing seed of its findings file, the subcommand rebuilds the same page from the
//! file, bad input is exit 2, and the page renders in headless Chromium (a screenshot
//! that is not blank, no console message), checked against pages that are blank or
//! throw, so the browser check itself can fail.

// The browser check kills Chromium by process group (Unix).
#![cfg(unix)]

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{run_in, scratch, stderr, stdout};

/// Runs a short campaign with a planted fault in `dir`, its page in `dir/report`.
fn campaign_with_a_fault(dir: &Path) -> String {
    let output = run_in(
        dir,
        &[
            "campaign",
            "--seeds",
            "1..5",
            "--jobs",
            "2",
            "--events-max",
            "5000",
            "--inject-fault",
            "RemoveTakesNeighbour",
            "--shrink-time",
            "3s",
            "--findings",
            "f.jsonl",
            "--report",
            "report",
            "--no-progress",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("report: report/index.html"),
        "{}",
        stdout(&output)
    );
    std::fs::read_to_string(dir.join("report/index.html")).unwrap()
}

/// The seeds the findings file records as failed.
fn failing_seeds(findings: &Path) -> Vec<u64> {
    std::fs::read_to_string(findings)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|record| record["record"] == "seed" && record["status"] != "pass")
        .map(|record| record["seed"].as_u64().unwrap())
        .collect()
}

/// The page from its failures section on (what depends on the findings only).
fn from_failures(html: &str) -> &str {
    &html[html
        .find("<section id=\"states\">")
        .expect("a states section")..]
}

#[test]
fn a_campaign_report_shows_every_failure_and_the_subcommand_rebuilds_it() {
    let dir = scratch("report", "campaign");
    let html = campaign_with_a_fault(&dir);
    let failing = failing_seeds(&dir.join("f.jsonl"));
    assert!(!failing.is_empty(), "the planted fault fails some seed");
    assert!(html.contains(&format!("<h2>Failures ({})</h2>", failing.len())));
    for seed in &failing {
        assert!(html.contains(&format!("id=\"seed-{seed}\"")), "seed {seed}");
    }
    assert!(html.contains("<th>seeds</th><td class=\"number\">4</td>"));
    assert!(html.contains("<summary>Regression test</summary>"));
    assert!(
        html.contains("--replay"),
        "the replay command of a shrunk trace"
    );
    assert!(html.contains("replayed 0 stored failures"));
    assert!(html.contains("<section id=\"op-mix\">"));
    // One self-contained file: nothing to fetch, nothing to run.
    for external in [" src=", " href=", "<script", "<link", "url("] {
        assert!(!html.contains(external), "the page holds {external:?}");
    }

    let output = run_in(&dir, &["report", "--findings", "f.jsonl", "--out", "again"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let again = std::fs::read_to_string(dir.join("again/index.html")).unwrap();
    assert_eq!(from_failures(&again), from_failures(&html));
}

#[test]
fn bad_report_input_is_a_usage_error() {
    let dir = scratch("report", "bad-input");
    std::fs::write(dir.join("a-file"), "not a directory").unwrap();
    let output = run_in(
        &dir,
        &[
            "campaign",
            "--seeds",
            "1..2",
            "--events-max",
            "100",
            "--report",
            "a-file",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--report a-file: not a directory"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.join("campaign-findings.jsonl").exists(), "nothing ran");

    let output = run_in(&dir, &["report", "--findings", "missing.jsonl"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("findings file missing.jsonl"),
        "{}",
        stderr(&output)
    );

    std::fs::write(dir.join("bad.jsonl"), "{\"record\":\"summary\",\"seeds\":0,\"failures\":0,\"ops\":0,\"elapsed_ms\":0}\nnot json\n").unwrap();
    let output = run_in(&dir, &["report", "--findings", "bad.jsonl"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("line 2: not a finding"),
        "{}",
        stderr(&output)
    );
    assert!(
        !dir.join("campaign-report").exists(),
        "no page for a bad file"
    );
}

/// Chromium on this machine, if any.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// What headless Chromium made of a page: its screenshot's pixels and the console
/// messages it logged.
struct Rendered {
    /// The screenshot's rows, `channels` bytes a pixel (RGB or RGBA).
    pixels: Vec<u8>,
    channels: usize,
    console: Vec<String>,
}

impl Rendered {
    /// Pixels of the charts' bar colour (`#3B6EA8`, give or take antialiasing).
    fn bar_pixels(&self) -> usize {
        let near = |value: u8, target: u8| value.abs_diff(target) <= 8;
        self.pixels
            .chunks_exact(self.channels)
            .filter(|p| near(p[0], 0x3b) && near(p[1], 0x6e) && near(p[2], 0xa8))
            .count()
    }

    /// The share of pixels that are not the page's white.
    fn ink(&self) -> f64 {
        let pixels = self.pixels.chunks_exact(self.channels);
        let total = pixels.len().max(1);
        let inked = pixels
            .filter(|pixel| pixel[..3].iter().any(|c| *c < 0xf0))
            .count();
        inked as f64 / total as f64
    }
}

/// Loads `page` in headless Chromium, screenshots it, and collects its console lines.
/// Chromium's log goes to a file (a pipe nobody reads while it runs could fill and block
/// it), and on a timeout its whole process group is killed.
fn render(browser: &Path, page: &Path, work: &Path) -> Rendered {
    let stem = page.file_stem().unwrap().to_string_lossy().into_owned();
    let shot = work.join(format!("{stem}.png"));
    let log_path = work.join(format!("{stem}.log"));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args([
            "--window-size=1280,2400",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let console = log
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).unwrap_or_else(|e| panic!("no screenshot: {e}\n{log}")),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "a colour screenshot: {:?}", info.color_type);
    pixels.truncate(info.buffer_size());
    Rendered {
        pixels,
        channels,
        console,
    }
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("MANIFEST_LEVEL_REQUIRE_BROWSER").is_none(),
            "MANIFEST_LEVEL_REQUIRE_BROWSER is set but no chromium is on PATH"
        );
        eprintln!("skipped: no chromium on PATH (apt-get install chromium to run this test)");
        return;
    };
    let dir = scratch("report", "browser");
    campaign_with_a_fault(&dir);
    let page = render(&browser, &dir.join("report/index.html"), &dir);
    assert!(
        page.console.is_empty(),
        "console messages: {:?}",
        page.console
    );
    assert!(
        page.ink() > 0.02,
        "the screenshot is nearly blank: {:.4} inked",
        page.ink()
    );
    let bars = page.bar_pixels();
    assert!(
        bars > 1_000,
        "no chart drew its bars: {bars} pixels of their colour"
    );

    // The checks fail where they should: a blank page, and a page that throws.
    std::fs::write(
        dir.join("blank.html"),
        "<!DOCTYPE html><html><body></body></html>",
    )
    .unwrap();
    let blank = render(&browser, &dir.join("blank.html"), &dir);
    assert!(
        blank.ink() < 0.001,
        "a blank page reads as inked: {}",
        blank.ink()
    );
    assert_eq!(blank.bar_pixels(), 0, "a blank page has no bars");
    std::fs::write(
        dir.join("throws.html"),
        "<!DOCTYPE html><html><body><p>text</p><script>console.error('planted'); \
         missingFunction();</script></body></html>",
    )
    .unwrap();
    let throws = render(&browser, &dir.join("throws.html"), &dir);
    assert_eq!(throws.console.len(), 2, "{:?}", throws.console);
    assert!(throws.console[0].contains("planted"));
}
