//! The summary of a scored backlog, accumulated row by row in bounded memory, and written as
//! Markdown or as one self-contained HTML page (inline SVG chart, no network needed).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::duplicates::DuplicateGroup;

use crate::model::Label;

/// One scored row, as written to `--out` and streamed by `/v1/score`.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredRow {
    /// The export file the row came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The row's line in that file.
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub title: String,
    pub label: Label,
    pub confidence: f32,
    /// 0–100 from the findings.
    pub quality: u8,
    /// Finding codes, most severe first.
    pub findings: Vec<&'static str>,
    /// The tracker's own type, when the export has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracker_type: Option<String>,
    /// The tracker says story and the model task, or the reverse.
    pub type_mismatch: bool,
    /// A drafted story, with `--rewrite`, for rows labelled task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<String>,
    /// The item's full classification, when `/v1/score?detail=true` asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<crate::analysis::ClassifyResult>,
}

impl ScoredRow {
    /// The row of a scored item: one builder for the bulk scorer and `/v1/score`.
    pub fn new(
        file: Option<String>,
        line: usize,
        item: &crate::analysis::Item,
        tracker_type: Option<String>,
        scored: &crate::service::Scored,
    ) -> Self {
        let scores = scored.analysis.scores;
        let label = scores.label();
        Self {
            file,
            line,
            id: item.id.clone(),
            title: item.title.clone(),
            label,
            confidence: scores.confidence(),
            quality: scored.analysis.quality,
            findings: scored
                .analysis
                .findings
                .iter()
                .map(|f| f.code.as_str())
                .collect(),
            type_mismatch: tracker_type
                .as_deref()
                .and_then(super::tracker_label)
                .is_some_and(|t| t != label),
            tracker_type,
            rewrite: None,
            result: None,
        }
    }
}

/// Items listed under "fix first".
const WORST: usize = 20;

/// An item listed under "fix first".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Worst {
    pub quality: u8,
    pub confidence: f32,
    #[serde(default)]
    pub file: String,
    pub line: usize,
    pub title: String,
    /// Finding codes, comma-separated.
    pub codes: String,
}

impl Worst {
    /// Lower quality first, then higher confidence in the label, then earlier rows.
    fn rank(&self, other: &Self) -> std::cmp::Ordering {
        self.quality
            .cmp(&other.quality)
            .then(other.confidence.total_cmp(&self.confidence))
            .then_with(|| self.file.cmp(&other.file))
            .then(self.line.cmp(&other.line))
    }
}

/// Counts, the worst items and the near-duplicates of a scored backlog, updated row by row:
/// one source for the report files, the last line of `/v1/score` and the page's summary.
#[derive(Debug, Default, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    pub rows: usize,
    pub errors: usize,
    pub stories: usize,
    pub tasks: usize,
    /// Story-shaped rows the model or the rules call tasks.
    pub disguised: usize,
    pub type_mismatches: usize,
    pub findings: BTreeMap<String, usize>,
    pub quality_sum: u64,
    /// The items to fix first, worst first.
    #[serde(default)]
    pub worst: Vec<Worst>,
    /// Groups of items that say the same thing, when they were looked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<Vec<DuplicateGroup>>,
}

impl Summary {
    /// Adds one scored row.
    pub fn add(&mut self, row: &ScoredRow) {
        self.rows += 1;
        match row.label {
            Label::Story => self.stories += 1,
            Label::Task => self.tasks += 1,
        }
        // Only items the model labels task are tasks in disguise; a story-labelled item with
        // the warning is a possible one, not counted here.
        if row.label == Label::Task && row.findings.contains(&"disguised-task") {
            self.disguised += 1;
        }
        if row.type_mismatch {
            self.type_mismatches += 1;
        }
        for c in &row.findings {
            *self.findings.entry(c.to_string()).or_default() += 1;
        }
        self.quality_sum += row.quality as u64;
        let w = Worst {
            quality: row.quality,
            confidence: row.confidence,
            file: row.file.clone().unwrap_or_default(),
            line: row.line,
            title: row.title.chars().take(140).collect(),
            codes: row.findings.join(", "),
        };
        let at = self
            .worst
            .partition_point(|x| x.rank(&w) != std::cmp::Ordering::Greater);
        if at < WORST {
            self.worst.insert(at, w);
            self.worst.truncate(WORST);
        }
    }

    /// Counts a row that could not be read.
    pub fn add_error(&mut self) {
        self.errors += 1;
    }

    fn pct(&self, n: usize) -> f64 {
        if self.rows == 0 {
            0.0
        } else {
            100.0 * n as f64 / self.rows as f64
        }
    }

    /// The report as Markdown (the chart as a Mermaid pie, which GitHub renders).
    pub fn markdown(&self, title: &str) -> String {
        let mut s = format!("# {title}\n\n");
        s += &format!(
            "{} items scored, {} rows could not be read. Mean quality {:.0}/100.\n\n",
            self.rows,
            self.errors,
            self.quality_sum as f64 / self.rows.max(1) as f64
        );
        s += "| | items | share |\n|---|---|---|\n";
        for (name, n) in [
            ("user stories", self.stories),
            ("technical tasks", self.tasks),
            ("tasks in disguise (story-shaped)", self.disguised),
            ("tracker type disagrees", self.type_mismatches),
        ] {
            s += &format!("| {name} | {n} | {:.1}% |\n", self.pct(n));
        }
        s += &format!(
            "\n```mermaid\npie title Stories and tasks\n    \"stories\" : {}\n    \"tasks\" : {}\n```\n\n",
            self.stories, self.tasks
        );
        s += "## Findings by code\n\n| code | items |\n|---|---|\n";
        let mut codes: Vec<_> = self.findings.iter().collect();
        codes.sort_by(|a, b| b.1.cmp(a.1));
        for (c, n) in codes {
            s += &format!("| `{c}` | {n} |\n");
        }
        s += "\n## Fix first\n\n| quality | where | item | findings |\n|---|---|---|---|\n";
        for w in &self.worst {
            s += &format!(
                "| {} | {}:{} | {} | {} |\n",
                w.quality,
                w.file,
                w.line,
                w.title.replace('|', "\\|"),
                w.codes
            );
        }
        if let Some(groups) = &self.duplicates {
            s += &format!("\n## Near-duplicates\n\n{} groups of items that say the same thing.\n\n| similarity | where | item |\n|---|---|---|\n", groups.len());
            for g in groups {
                for m in &g.items {
                    s += &format!(
                        "| {:.2} | {}:{} | {} |\n",
                        g.similarity,
                        m.file.as_deref().unwrap_or(""),
                        m.line,
                        m.title.replace('|', "\\|")
                    );
                }
            }
        }
        s
    }

    /// The report as one self-contained HTML page with an inline SVG bar chart.
    pub fn html(&self, title: &str) -> String {
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut bars = vec![
            ("stories".to_string(), self.stories, "#2e7d32"),
            ("tasks".to_string(), self.tasks, "#1565c0"),
            ("disguised".to_string(), self.disguised, "#c62828"),
        ];
        let mut codes: Vec<_> = self.findings.iter().collect();
        codes.sort_by(|a, b| b.1.cmp(a.1));
        bars.extend(codes.iter().map(|(c, n)| (c.to_string(), **n, "#6d4c41")));
        let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64;
        let mut svg = format!(
            "<svg xmlns='http://www.w3.org/2000/svg' width='720' height='{}' role='img' aria-label='counts'>",
            bars.len() * 26 + 10
        );
        for (i, (name, n, colour)) in bars.iter().enumerate() {
            let y = i * 26 + 5;
            let w = 420.0 * *n as f64 / max;
            svg += &format!(
                "<text x='0' y='{}' font-size='13'>{}</text><rect x='230' y='{}' width='{w:.1}' height='18' fill='{colour}'/><text x='{:.1}' y='{}' font-size='13'>{n}</text>",
                y + 14,
                esc(name),
                y,
                236.0 + w,
                y + 14
            );
        }
        svg += "</svg>";
        let mut rows = String::new();
        for w in &self.worst {
            rows += &format!(
                "<tr><td>{}</td><td>{}:{}</td><td>{}</td><td>{}</td></tr>",
                w.quality,
                esc(&w.file),
                w.line,
                esc(&w.title),
                esc(&w.codes)
            );
        }
        let dups = match &self.duplicates {
            Some(groups) => {
                let mut t = format!(
                    "<h2>Near-duplicates</h2><p>{} groups of items that say the same thing.</p><table><tr><th>similarity</th><th>where</th><th>item</th></tr>",
                    groups.len()
                );
                for g in groups {
                    for m in &g.items {
                        t += &format!(
                            "<tr><td>{:.2}</td><td>{}:{}</td><td>{}</td></tr>",
                            g.similarity,
                            esc(m.file.as_deref().unwrap_or("")),
                            m.line,
                            esc(&m.title)
                        );
                    }
                }
                t + "</table>"
            }
            None => String::new(),
        };
        format!(
            "<!doctype html><html><head><meta charset='utf-8'><title>{t}</title><style>\
body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}}\
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}\
.big{{font-size:1.6em;font-weight:600}}</style></head><body><h1>{t}</h1>\
<p><span class='big'>{rows_n}</span> items scored, {errors} rows could not be read; mean quality {q:.0}/100.</p>\
<p><span class='big'>{sp:.1}%</span> user stories, <span class='big'>{tp:.1}%</span> technical tasks, \
<span class='big'>{dp:.1}%</span> tasks in disguise, {mm} tracker types disagree with the model.</p>\
<h2>Counts and findings</h2>{svg}<h2>Fix first</h2><table><tr><th>quality</th><th>where</th><th>item</th><th>findings</th></tr>{rows}</table>{dups}\
</body></html>\n",
            t = esc(title),
            rows_n = self.rows,
            errors = self.errors,
            q = self.quality_sum as f64 / self.rows.max(1) as f64,
            sp = self.pct(self.stories),
            tp = self.pct(self.tasks),
            dp = self.pct(self.disguised),
            mm = self.type_mismatches,
        )
    }
}
