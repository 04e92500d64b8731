//! The tables `bench learn` prints.

use super::followup::FollowSummary;
use super::report::{BUCKETS, Report, Summary};
use super::stats::percent;

impl Report {
    /// The tables.
    pub fn print(&self) {
        println!(
            "learn bench: {} requests, {} {}, {} candidates, {} repair rounds",
            self.all.requests,
            self.llm.backend,
            self.llm.reasoning_model.as_deref().unwrap_or("-"),
            self.candidates,
            self.repair_rounds
        );
        let parts: Vec<(&str, &Summary)> = [
            ("held-out", self.held_out.as_ref()),
            ("dev", self.dev.as_ref()),
            ("all", Some(&self.all)),
        ]
        .into_iter()
        .filter_map(|(n, s)| s.map(|s| (n, s)))
        .collect();
        let row = |label: &str, f: &dyn Fn(&Summary) -> String| {
            let cells: Vec<String> = parts.iter().map(|(_, s)| format!("{:>18}", f(s))).collect();
            println!("  {label:<44} {}", cells.join(" "));
        };
        let of = |part: usize, s: &Summary| {
            format!("{part}/{} ({:.0}%)", s.requests, percent(part, s.requests))
        };
        let opt = |v: Option<f64>, unit: &str| v.map_or("-".into(), |v| format!("{v:.1}{unit}"));
        let names: Vec<String> = parts.iter().map(|(n, _)| format!("{n:>18}")).collect();
        println!("  {:<44} {}", "", names.join(" "));
        row("raw model, correct (pass@1)", &|s| {
            s.raw_correct.map_or("-".into(), |c| of(c, s))
        });
        row("single sample, correct (unverified)", &|s| {
            of(s.single_correct, s)
        });
        row("pipeline, correct and published", &|s| {
            of(s.published_correct, s)
        });
        row("pipeline, published", &|s| s.published.to_string());
        row("pipeline, precision of published", &|s| {
            opt(s.precision, "%")
        });
        row("pipeline, correct stored (drafts too)", &|s| {
            of(s.stored_correct, s)
        });
        row("drafts / nothing stored", &|s| {
            format!("{:.0}% / {:.0}%", s.draft_rate, s.nothing_rate)
        });
        row("questions asked", &|s| s.questions.to_string());
        if parts.iter().any(|(_, s)| s.followed.is_some()) {
            let then = |s: &Summary, f: &dyn Fn(&FollowSummary) -> String| {
                s.followed.as_ref().map_or("-".into(), f)
            };
            row("held for answers (counted published above)", &|s| {
                then(s, &|f| f.held.to_string())
            });
            row("with answers: correct and published", &|s| {
                then(s, &|f| of(f.published_correct, s))
            });
            row("with answers: published", &|s| {
                then(s, &|f| f.published.to_string())
            });
            row("with answers: precision of published", &|s| {
                then(s, &|f| opt(f.precision, "%"))
            });
            row("with answers: correct stored (drafts too)", &|s| {
                then(s, &|f| of(f.stored_correct, s))
            });
            row("with answers: questions answered", &|s| {
                then(s, &|f| f.questions.to_string())
            });
            row("with answers: median seconds per published", &|s| {
                then(s, &|f| opt(f.median_seconds_published, ""))
            });
        }
        row("mean trust, right / wrong", &|s| {
            format!("{} / {}", opt(s.trust_correct, ""), opt(s.trust_wrong, ""))
        });
        row("median seconds, request / published", &|s| {
            format!(
                "{} / {}",
                opt(s.median_seconds, ""),
                opt(s.median_seconds_published, "")
            )
        });
        row("tokens per published skill", &|s| {
            opt(s.tokens_per_published, "")
        });
        println!("  calibration (stored skills: right / in bucket)");
        for (i, &(from, to)) in BUCKETS.iter().enumerate() {
            row(&format!("    trust {from:.0}-{to:.0}"), &|s| {
                let b = &s.calibration[i];
                format!("{}/{}", b.correct, b.skills)
            });
        }
        println!(
            "  model: {} prompt + {} generated tokens; decode {} tok/s, prompt {} tok/s; run {:.0} s",
            self.usage.prompt_tokens,
            self.usage.completion_tokens,
            opt(self.decode_tokens_per_sec, ""),
            opt(self.prompt_tokens_per_sec, ""),
            self.wall_seconds
        );
    }
}
