//! The Skills extension (SEP-2640, `io.modelcontextprotocol/skills`): every
//! published skill of the caller's tenant is an Agent Skill directory,
//! `skill://NAME/` with `SKILL.md`, `scripts/` and `references/`
//! ([`crate::skills::package`]). `skills/list` and `skills/get` give each
//! skill's entry (front matter, and every file with its sha256 digest and
//! size); `resources/read` serves the files, `resources/directory/read`
//! the directories. Drafts and retired skills are not served.

use rmcp::ErrorData as McpError;
use rmcp::model::{
    CacheScope, DIRECTORY_MIME_TYPE, GetSkillResult, ListSkillsResult, PaginatedRequestParams,
    Resource, ResourceContents, Skill as SkillEntry, SkillFrontmatter, SkillResource,
    SkillResources,
};

use crate::app::Catalog;
use crate::skills::Skill;
use crate::skills::package::{self, Package};

/// Skills per `skills/list` page.
const PAGE: usize = 50;

/// The URI of `path` in the Agent Skill `name` (`""` is the directory).
fn uri(name: &str, path: &str) -> String {
    if path.is_empty() {
        format!("skill://{name}")
    } else {
        format!("skill://{name}/{path}")
    }
}

/// `skill://NAME/PATH` → (`NAME`, `PATH`); `PATH` is `""` for the skill's
/// own directory.
fn parse(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("skill://")?;
    if rest.contains(['?', '#']) {
        return None;
    }
    let (name, path) = rest.split_once('/').unwrap_or((rest, ""));
    (!name.is_empty()).then_some((name, path.trim_end_matches('/')))
}

/// The package a URI points into, with the path inside it.
fn locate<'a>(catalog: &Catalog, uri: &'a str) -> Option<(Package, &'a str)> {
    let (name, path) = parse(uri)?;
    let skill = catalog.by_agent_name(name)?;
    Some((package::package(skill, name), path))
}

/// A skill's `skills/list` entry.
fn entry(p: &Package) -> SkillEntry {
    let description = p.frontmatter["description"].as_str().unwrap_or_default();
    let mut frontmatter = SkillFrontmatter::new(&p.name, description);
    for (k, v) in &p.frontmatter {
        if k != "name" && k != "description" {
            frontmatter = frontmatter.with_field(k.clone(), v.clone());
        }
    }
    let files = p
        .files
        .iter()
        .map(|f| SkillResource::from_bytes(uri(&p.name, &f.path), f.text.as_bytes()))
        .collect();
    SkillEntry::new(
        uri(&p.name, "SKILL.md"),
        frontmatter,
        SkillResources::Files(files),
    )
}

/// One page of the tenant's Agent Skills (`skills/list`). The entries
/// change whenever a skill is published or retired and differ per tenant:
/// never fresh for long, never shared.
pub(super) fn list(
    catalog: &Catalog,
    request: Option<PaginatedRequestParams>,
) -> Result<ListSkillsResult, McpError> {
    let total = catalog.published_len();
    let start = super::listing::offset(request, total)?;
    let skills = catalog
        .published_agent_skills()
        .skip(start)
        .take(PAGE)
        .map(|(s, n)| entry(&package::package(s, n)))
        .collect();
    let end = (start + PAGE).min(total);
    Ok(ListSkillsResult {
        skills,
        next_cursor: (end < total).then(|| end.to_string()),
        ttl_ms: Some(0),
        cache_scope: Some(CacheScope::Private),
        ..Default::default()
    })
}

/// `skills/get`: the entry of the skill whose `SKILL.md` is `uri`, or
/// `-32602` when no published skill of the tenant is served there.
pub(super) fn get(catalog: &Catalog, uri: &str) -> Result<GetSkillResult, McpError> {
    match locate(catalog, uri) {
        Some((p, "SKILL.md")) => {
            let mut result = GetSkillResult::new(entry(&p));
            result.ttl_ms = Some(0);
            result.cache_scope = Some(CacheScope::Private);
            Ok(result)
        }
        _ => Err(McpError::invalid_params(
            format!("no skill is served at {uri}"),
            Some(serde_json::json!({"uri": uri})),
        )),
    }
}

/// The `resources/list` item of a skill: its `SKILL.md`, named and
/// described by its front matter (the rest is in its `skills/list` entry).
pub(super) fn listed(skill: &Skill, name: &str) -> [Resource; 1] {
    let p = package::package(skill, name);
    let description = p.frontmatter["description"].as_str().unwrap_or_default();
    let md = &p.files[0];
    [Resource::new(uri(name, &md.path), name)
        .with_description(description)
        .with_mime_type(md.mime_type)
        .with_size(md.text.len() as u64)]
}

/// A file of a served skill, or `None` when `uri` names none (it may still
/// be a legacy `skill://NAME/source` URI).
pub(super) fn read(catalog: &Catalog, uri: &str) -> Option<ResourceContents> {
    let (p, path) = locate(catalog, uri)?;
    let file = p.file(path)?;
    Some(ResourceContents::TextResourceContents {
        uri: uri.to_owned(),
        mime_type: Some(file.mime_type.into()),
        text: file.text.clone(),
        meta: None,
    })
}

/// `resources/directory/read`: the direct children of a skill's directory
/// or of one of its subdirectories; `-32602` for anything else.
pub(super) fn directory(catalog: &Catalog, dir: &str) -> Result<Vec<Resource>, McpError> {
    let not_a_directory = || {
        McpError::invalid_params(
            format!("{dir} is not a directory of a served skill"),
            Some(serde_json::json!({"uri": dir})),
        )
    };
    let (p, path) = locate(catalog, dir).ok_or_else(not_a_directory)?;
    let dirs = p.directories();
    if !path.is_empty() && !dirs.contains(&path) {
        return Err(not_a_directory());
    }
    let mut children = Vec::new();
    if path.is_empty() {
        for f in p.files.iter().filter(|f| !f.path.contains('/')) {
            children.push(file_resource(&p.name, &f.path, f.mime_type, f.text.len()));
        }
        for d in &dirs {
            children.push(Resource::new(uri(&p.name, d), *d).with_mime_type(DIRECTORY_MIME_TYPE));
        }
    } else {
        for f in &p.files {
            if f.path.rsplit_once('/').map(|(d, _)| d) == Some(path) {
                children.push(file_resource(&p.name, &f.path, f.mime_type, f.text.len()));
            }
        }
    }
    Ok(children)
}

fn file_resource(name: &str, path: &str, mime: &str, size: usize) -> Resource {
    let file_name = path.rsplit('/').next().unwrap_or(path);
    Resource::new(uri(name, path), file_name)
        .with_mime_type(mime)
        .with_size(size as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_into_skill_and_path() {
        assert_eq!(
            parse("skill://word-stats/SKILL.md"),
            Some(("word-stats", "SKILL.md"))
        );
        assert_eq!(
            parse("skill://word-stats/scripts/"),
            Some(("word-stats", "scripts"))
        );
        assert_eq!(parse("skill://word-stats"), Some(("word-stats", "")));
        assert_eq!(parse("skill://x/SKILL.md?y"), None);
        assert_eq!(parse("skill:///SKILL.md"), None);
        assert_eq!(parse("file://x/SKILL.md"), None);
    }
}
