//! The report's HTML: one self-contained page, every section an `id` (`summary`,
//! `throughput`, `sizes`, `configurations`, `op-mix`, `states`, `failures`), every text
//! escaped, the charts inline.

use std::fmt::Write;

use serde_json::Value;

use super::plots::{bar_chart, line_chart, short_number};
use super::{CampaignReport, FailureEntry};

/// The page's styles: readable without any of them, so none is load-bearing.
const STYLE: &str = "body{font-family:sans-serif;max-width:1340px;margin:2em auto;padding:0 1em;\
color:#1d2733}h1{font-size:1.6em}h2{border-bottom:1px solid #ccd;padding-bottom:.2em;\
margin-top:2em}table{border-collapse:collapse}td,th{padding:.25em .8em;text-align:left;\
border-bottom:1px solid #e4e6ea}td.number{text-align:right;font-variant-numeric:tabular-nums}\
tr.never td{color:#b3261e;font-weight:bold}.charts{display:flex;flex-wrap:wrap;gap:1em}\
.charts figure{margin:0}pre{background:#f4f5f7;padding:.6em;overflow-x:auto;max-height:28em}\
article.failure{border-left:4px solid #b3261e;padding-left:1em;margin:1.5em 0}\
p.ok{color:#1e6b2f;font-weight:bold}";

impl CampaignReport {
    /// The whole page.
    pub fn to_html(&self) -> String {
        let mut html = String::new();
        let title = match self.heading.target.as_str() {
            "" => "manifest-level-fuzz campaign".to_string(),
            target => format!("manifest-level-fuzz campaign: {target}"),
        };
        let _ = write!(
            html,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n\
             <p><code>{}</code></p>\n",
            escape(&title),
            escape(&title),
            escape(&self.heading.description),
        );
        self.summary_section(&mut html);
        self.throughput_section(&mut html);
        self.sizes_section(&mut html);
        self.configurations_section(&mut html);
        self.op_mix_section(&mut html);
        self.states_section(&mut html);
        self.failures_section(&mut html);
        html.push_str("</body>\n</html>\n");
        html
    }

    fn summary_section(&self, html: &mut String) {
        let rows = [
            ("seeds", self.seeds.to_string()),
            ("passed", (self.seeds - self.failures()).to_string()),
            ("failed", self.failed.to_string()),
            ("panicked", self.panicked.to_string()),
            ("ops", self.ops.to_string()),
            ("ops/s", self.rate_text()),
            ("elapsed", self.elapsed_text()),
        ];
        html.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<table>\n");
        for (name, value) in rows {
            let _ = writeln!(
                html,
                "<tr><th>{name}</th><td class=\"number\">{}</td></tr>",
                escape(&value)
            );
        }
        html.push_str("</table>\n");
        if let Some(stored) = &self.heading.stored_failures {
            let _ = writeln!(html, "<p>Failure database: {}</p>", escape(stored));
        }
        if !self.summary_seen {
            html.push_str("<p>No summary line: the campaign did not finish.</p>\n");
        }
        html.push_str("</section>\n");
    }

    /// Ops per second of the campaign's time, or a dash when its time is unknown (a
    /// findings file without the times a summary or a seed's finish give).
    fn rate_text(&self) -> String {
        match self.elapsed_ms {
            0 => "–".to_string(),
            ms => format!("{:.0}", self.ops as f64 * 1_000.0 / ms as f64),
        }
    }

    /// The campaign's time, or a dash when it is unknown.
    fn elapsed_text(&self) -> String {
        match self.elapsed_ms {
            0 => "–".to_string(),
            ms => format!("{:.1} s", ms as f64 / 1_000.0),
        }
    }

    fn throughput_section(&self, html: &mut String) {
        html.push_str("<section id=\"throughput\">\n<h2>Ops/s over the run</h2>\n");
        let caption = format!(
            "Ops/s in buckets of {} s (a finished seed's ops spread evenly over the time it ran)",
            self.throughput.bucket_ms() as f64 / 1_000.0
        );
        let points = self.throughput.points();
        figure(
            html,
            &caption,
            line_chart("ops/s", "seconds", "ops/s", &points),
        );
        html.push_str("</section>\n");
    }

    fn sizes_section(&self, html: &mut String) {
        html.push_str("<section id=\"sizes\">\n<h2>Peak level sizes</h2>\n");
        if self.peak_tables.total() == 0 {
            html.push_str("<p>This target does not report level sizes.</p>\n");
        } else {
            html.push_str("<div class=\"charts\">\n");
            let tables = bar_chart("Peak tables per seed", "seeds", &self.peak_tables.bars());
            figure(html, "Seeds by the most tables their level held", tables);
            let nodes = bar_chart("Peak nodes per seed", "seeds", &self.peak_nodes.bars());
            figure(html, "Seeds by the most nodes their level held", nodes);
            html.push_str("</div>\n");
        }
        html.push_str("</section>\n");
    }

    fn configurations_section(&self, html: &mut String) {
        html.push_str("<section id=\"configurations\">\n<h2>Configurations drawn</h2>\n");
        if self.config_numbers.is_empty() && self.config_names.is_empty() {
            html.push_str("<p>Every seed ran the base configuration above.</p>\n");
        }
        if !self.config_names.is_empty() {
            html.push_str("<table>\n<tr><th>field</th><th>value</th><th>seeds</th></tr>\n");
            for (field, counts) in &self.config_names {
                for (value, seeds) in counts.bars() {
                    let _ = writeln!(
                        html,
                        "<tr><td>{}</td><td>{}</td><td class=\"number\">{seeds}</td></tr>",
                        escape(field),
                        escape(&value)
                    );
                }
            }
            html.push_str("</table>\n");
        }
        html.push_str("<div class=\"charts\">\n");
        for (field, histogram) in &self.config_numbers {
            let chart = bar_chart(field, "seeds", &histogram.bars());
            figure(html, &format!("Seeds by {field}"), chart);
        }
        html.push_str("</div>\n</section>\n");
    }

    fn op_mix_section(&self, html: &mut String) {
        html.push_str("<section id=\"op-mix\">\n<h2>Op mix</h2>\n");
        if self.op_mix.is_empty() {
            html.push_str("<p>No seed reported its op counts.</p>\n");
        } else {
            let chart = bar_chart("Ops run, by kind", "ops", &self.op_mix.bars());
            figure(html, "Ops run over every seed, by kind", chart);
        }
        html.push_str("</section>\n");
    }

    fn states_section(&self, html: &mut String) {
        html.push_str("<section id=\"states\">\n<h2>State coverage</h2>\n");
        if self.states.is_empty() {
            html.push_str("<p>This target names no states.</p>\n</section>\n");
            return;
        }
        let reached = self.states.iter().filter(|(_, seeds)| *seeds > 0).count();
        let _ = writeln!(
            html,
            "<p>{reached} of {} states reached; seeds that reached each, of {}.</p>\n\
             <table>\n<tr><th>state</th><th>seeds</th><th>share</th></tr>",
            self.states.len(),
            self.seeds
        );
        for (name, seeds) in &self.states {
            let class = if *seeds == 0 { " class=\"never\"" } else { "" };
            let share = 100.0 * *seeds as f64 / self.seeds.max(1) as f64;
            let _ = writeln!(
                html,
                "<tr{class}><td>{}</td><td class=\"number\">{seeds}</td>\
                 <td class=\"number\">{share:.0}%</td></tr>",
                escape(name)
            );
        }
        html.push_str("</table>\n</section>\n");
    }

    fn failures_section(&self, html: &mut String) {
        let _ = writeln!(
            html,
            "<section id=\"failures\">\n<h2>Failures ({})</h2>",
            self.failures()
        );
        if self.failures() == 0 {
            html.push_str("<p class=\"ok\">Every seed passed.</p>\n");
        }
        for entry in &self.failures {
            failure_article(html, entry);
        }
        if self.failures_omitted > 0 {
            let _ = writeln!(
                html,
                "<p>{} more failures are in the findings file.</p>",
                self.failures_omitted
            );
        }
        html.push_str("</section>\n");
    }
}

/// One failure: what failed, how to reproduce it, and what shrinking made of it.
fn failure_article(html: &mut String, entry: &FailureEntry) {
    let _ = writeln!(
        html,
        "<article class=\"failure\" id=\"seed-{}\">\n<h3>Seed {}: {:?}</h3>\n<pre>{}</pre>\n\
         <p>Reproduce:</p>\n<pre><code>{}</code></pre>",
        entry.seed,
        entry.seed,
        entry.status,
        escape(&entry.detail),
        escape(&entry.reproduce)
    );
    if let Some(config) = &entry.config {
        let _ = writeln!(
            html,
            "<p>Configuration: <code>{}</code></p>",
            escape(&config.to_string())
        );
    }
    match &entry.shrunk {
        Some(shrunk) => shrunk_part(html, shrunk),
        None => html.push_str("<p>Not shrunk.</p>\n"),
    }
    html.push_str("</article>\n");
}

/// The shrunk record: its op counts, its ops one per line, the replay command and the
/// regression test (fields a record lacks are left out).
fn shrunk_part(html: &mut String, shrunk: &Value) {
    if let Some(error) = shrunk.get("error").and_then(Value::as_str) {
        let _ = writeln!(html, "<p>Shrinking failed: {}</p>", escape(error));
        return;
    }
    let count = |field: &str| shrunk.get(field).and_then(Value::as_u64);
    if let (Some(before), Some(after)) = (count("ops_before"), count("ops_after")) {
        let _ = writeln!(
            html,
            "<p>Shrunk from {before} ops to {after} ({} attempts):</p>",
            count("attempts").map_or_else(|| "?".to_string(), |n| short_number(n as f64))
        );
    }
    if let Some(ops) = shrunk.get("ops").and_then(Value::as_array) {
        let lines: Vec<String> = ops.iter().map(Value::to_string).collect();
        let _ = writeln!(
            html,
            "<pre class=\"ops\">{}</pre>",
            escape(&lines.join("\n"))
        );
    }
    if let Some(replay) = shrunk.get("replay").and_then(Value::as_str) {
        let _ = writeln!(
            html,
            "<p>Replay:</p>\n<pre><code>{}</code></pre>",
            escape(replay)
        );
    }
    if let Some(test) = shrunk.get("regression_test").and_then(Value::as_str) {
        let _ = writeln!(
            html,
            "<details open>\n<summary>Regression test</summary>\n<pre><code>{}</code></pre>\n</details>",
            escape(test)
        );
    }
}

/// A chart in a `<figure>` with its caption, or the reason it could not be drawn.
fn figure(html: &mut String, caption: &str, chart: Result<String, String>) {
    html.push_str("<figure>\n");
    match chart {
        Ok(svg) => html.push_str(&svg),
        Err(error) => {
            let _ = write!(html, "<p>Chart not drawn: {}</p>", escape(&error));
        }
    }
    let _ = writeln!(
        html,
        "\n<figcaption>{}</figcaption>\n</figure>",
        escape(caption)
    );
}

/// `text` with HTML's special characters escaped.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(character),
        }
    }
    escaped
}
