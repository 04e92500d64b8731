//! What practice reports: the curriculum overview, the priority order,
//! each project's numbers and the completion report. Every number is
//! counted from the step records or measured on the stored skills.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::curriculum::{Domain, Project};
use super::state::round1;
use super::{MASTERED, Practice, PracticeError, kpis, work};
use crate::store::{ProjectRow, StoreError};

impl Practice {
    /// `GET /api/learning/curriculum/overview`.
    pub async fn overview(&self, tenant: &str) -> Result<Value, PracticeError> {
        let trusted = self.trusted(tenant).await?;
        let rows = self.rows(tenant).await?;
        let mut domains = serde_json::Map::new();
        let mut mastered = 0;
        for d in &self.curriculum.domains {
            let m = Self::mastery(d, &trusted);
            if m >= MASTERED {
                mastered += 1;
            }
            let goals: usize = d.projects.iter().map(|p| p.goals.len()).sum();
            domains.insert(
                d.domain.clone(),
                json!({
                    "name": d.name,
                    "topics": d.topics,
                    "projects": d.projects.iter().map(|p| self.project_brief(d, p, &rows)).collect::<Vec<_>>(),
                    "goals": goals,
                    "goals_trusted": d.projects.iter().flat_map(|p| &p.goals).filter(|g| trusted.contains(&g.id)).count(),
                    "mastery": m,
                    "mastered": m >= MASTERED,
                }),
            );
        }
        let completed = rows.values().filter(|r| r.status == "completed").count();
        Ok(json!({
            "curriculum": {
                "total_domains": self.curriculum.domains.len(),
                "domains_mastered": mastered,
                "projects_completed": completed,
                "total_projects": self.curriculum.projects().count(),
                "total_goals": self.curriculum.goals().count(),
                "goals_trusted": trusted.len(),
            },
            "domains": domains,
            "priority_projects": self.ordered().iter().take(3).map(|(d, p)| self.project_brief(d, p, &rows)).collect::<Vec<_>>(),
        }))
    }

    fn project_brief(&self, d: &Domain, p: &Project, rows: &HashMap<String, ProjectRow>) -> Value {
        json!({
            "project_id": p.id,
            "name": p.name,
            "domain": d.domain,
            "priority": p.priority,
            "complexity": p.complexity(),
            "goals": p.goals.len(),
            "requires": p.requires,
            "ready": Self::missing(p, rows).is_empty(),
            "status": rows.get(&p.id).map_or("not_started", |r| r.status.as_str()),
        })
    }

    /// `GET /api/learning/projects/priority`: every project, in the order
    /// the manager takes them.
    pub async fn priority(&self, tenant: &str) -> Result<Value, PracticeError> {
        let rows = self.rows(tenant).await?;
        let projects: Vec<Value> = self
            .ordered()
            .iter()
            .map(|(d, p)| self.project_brief(d, p, &rows))
            .collect();
        Ok(json!({"projects": projects}))
    }

    /// A project's numbers, as `work` and `progress` report them.
    pub(super) async fn numbers(
        &self,
        tenant: &str,
        row: &ProjectRow,
        trusted: &HashSet<String>,
    ) -> Result<Value, PracticeError> {
        let Some((d, p)) = self.curriculum.project(&row.project_id) else {
            return Err(PracticeError::UnknownProject(row.project_id.clone()));
        };
        let s = self.state(tenant, p, trusted).await?;
        let learnings = self.learnings(tenant, p, row.learnings_from).await?;
        let (passed, total) = s.held_back();
        let phase = s.phase();
        Ok(json!({
            "project_id": p.id,
            "name": p.name,
            "domain": d.domain,
            "status": row.status,
            "progress": s.progress(),
            "phase": phase.number(),
            "phase_name": phase.name(),
            "phase_progress": s.phase_progress(phase),
            "iterations": s.iterations(),
            "edge_cases_found": s.edge_cases_found(),
            "solutions_tested": s.solutions_tested(),
            "learnings": learnings,
            "goals": p.goals.len(),
            "goals_attempted": s.goals_attempted(),
            "skills_published": s.goals_published(),
            "waiting": s.waiting(),
            "held_back": {"passed": passed, "total": total},
            "working": self.is_working(tenant),
            "worked_seconds": row.worked_ms as f64 / 1e3,
            "budget_seconds": row.budget_ms as f64 / 1e3,
        }))
    }

    async fn learnings(&self, tenant: &str, p: &Project, from: i64) -> Result<u64, StoreError> {
        let mut subjects: Vec<&str> = p.goals.iter().map(|g| g.id.as_str()).collect();
        subjects.push(&p.id);
        self.app
            .practice_book()
            .count_learnings(tenant, from, &subjects)
            .await
    }

    /// `GET /api/learning/progress`: every started project's numbers.
    pub async fn progress(&self, tenant: &str) -> Result<Value, PracticeError> {
        let trusted = self.trusted(tenant).await?;
        let mut projects = Vec::new();
        let mut active = Value::Null;
        for row in self.app.practice_book().practice_projects(tenant).await? {
            if self.curriculum.project(&row.project_id).is_none() {
                continue;
            }
            let n = self.numbers(tenant, &row, &trusted).await?;
            if row.status == "active" {
                active = n.clone();
            }
            projects.push(n);
        }
        Ok(json!({"active_project": active, "projects": projects}))
    }

    /// `GET /api/learning/status`.
    pub async fn status(&self, tenant: &str) -> Result<Value, PracticeError> {
        let overview = self.overview(tenant).await?;
        let active = self.active(tenant).await?;
        let info = self.app.model().info();
        Ok(json!({
            "running": true,
            "working": self.is_working(tenant),
            "active_project": active.map(|r| r.project_id),
            "llm": {"backend": info.backend, "model": info.reasoning_model},
            "curriculum": overview["curriculum"],
        }))
    }

    /// The completion report: KPIs, trust, learnings, mastery, all measured.
    pub(super) async fn report(
        &self,
        tenant: &str,
        p: &Project,
        row: &ProjectRow,
    ) -> Result<Value, PracticeError> {
        let trusted = self.trusted(tenant).await?;
        let state = self.state(tenant, p, &trusted).await?;
        let mut skills = Vec::new();
        for g in &p.goals {
            if let Some(s) = work::published(&self.app, tenant, &g.id).await {
                skills.push(s);
            }
        }
        let refs: Vec<&crate::skills::Skill> = skills.iter().collect();
        let (d, _) = self
            .curriculum
            .project(&p.id)
            .ok_or_else(|| PracticeError::UnknownProject(p.id.clone()))?;
        let (passed, total) = state.held_back();
        Ok(json!({
            "project_id": p.id,
            "name": p.name,
            "domain": d.domain,
            "trust_score": kpis::project_trust(&refs, p.goals.len()),
            "kpis": kpis::project_kpis(&refs),
            "learnings_count": self.learnings(tenant, p, row.learnings_from).await?,
            "domain_mastery": Self::mastery(d, &trusted),
            "goals": p.goals.len(),
            "goals_attempted": state.goals_attempted(),
            "skills_published": skills.len(),
            "skills": skills.iter().map(|s| json!({"name": s.manifest.name, "id": s.id, "trust": s.trust()})).collect::<Vec<_>>(),
            "held_back": {
                "passed": passed,
                "total": total,
                "pass_rate": if total == 0 { Value::Null } else { json!(round1(100.0 * passed as f64 / total as f64)) },
            },
            "edge_cases_found": state.edge_cases_found(),
            "solutions_tested": state.solutions_tested(),
            "iterations": state.iterations(),
            "progress": state.progress(),
        }))
    }
}
