//! App variables: `{{ name }}` templates, providers, and the resolver that turns component
//! `variables` (locked `config`) and templated fields into values (spec §5.2 Variables).
//!
//! Decision: every app variable is resolved once, when the [`VariableResolver`] is built
//! (providers first, in order, then the manifest default), and the values are cached. The
//! providers here (process environment, static maps) cannot change while the app runs, so
//! there is nothing to gain from asking them again per request.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{anyhow, bail, Context};

use crate::locked::{LockedComponent, LockedVariable};
use crate::manifest::ids::validate_variable_name;

/// Default prefix of the environment variable provider.
pub const DEFAULT_ENV_PREFIX: &str = "SPIN_VARIABLE";

/// A source of app variable values.
pub trait Provider: Send + Sync {
    /// The value of app variable `name`, if this provider has one.
    fn get(&self, name: &str) -> Option<String>;
}

/// Reads `<PREFIX>_<UPPERCASE_NAME>` from the environment map the runner read
/// at its edge (never the process environment), then from a dotenv file.
#[derive(Debug, Clone)]
pub struct EnvProvider {
    prefix: String,
    env: HashMap<String, String>,
    dotenv: HashMap<String, String>,
}

impl EnvProvider {
    /// Reads `env` with a custom prefix.
    pub fn with_prefix(prefix: impl Into<String>, env: HashMap<String, String>) -> Self {
        Self { prefix: prefix.into(), env, dotenv: HashMap::new() }
    }

    /// Also reads the dotenv file at `path` (Spin's `.env`), for names the
    /// environment does not hold; a missing file holds nothing, a malformed one
    /// is an error naming it.
    pub fn with_dotenv(mut self, path: &Path) -> anyhow::Result<Self> {
        let entries = match dotenvy::from_path_iter(path) {
            Ok(entries) => entries,
            Err(e) if e.not_found() => return Ok(self),
            Err(e) => return Err(anyhow!("cannot read {}: {e}", path.display())),
        };
        for entry in entries {
            let (key, value) = entry.map_err(|e| anyhow!("{}: {e}", path.display()))?;
            self.dotenv.insert(key, value);
        }
        Ok(self)
    }

    /// Reads `env` with the `SPIN_VARIABLE` prefix.
    pub fn from_map(env: HashMap<String, String>) -> Self {
        Self::with_prefix(DEFAULT_ENV_PREFIX, env)
    }

    /// The environment key holding variable `name`.
    pub fn key_for(&self, name: &str) -> String {
        format!("{}_{}", self.prefix, name.to_ascii_uppercase())
    }
}

impl Provider for EnvProvider {
    fn get(&self, name: &str) -> Option<String> {
        let key = self.key_for(name);
        self.env.get(&key).or_else(|| self.dotenv.get(&key)).cloned()
    }
}

/// A fixed map of values (e.g. `--variable k=v`, or a runtime-config `static` provider).
#[derive(Debug, Clone, Default)]
pub struct StaticProvider(pub BTreeMap<String, String>);

impl Provider for StaticProvider {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// A parsed template: literal text and `{{ variable }}` references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<TemplatePart>,
}

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Text copied as is.
    Literal(String),
    /// A reference to an app variable.
    Variable(String),
}

/// Why a template could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without a matching `}}`.
    #[error("unclosed `{{{{` in template `{0}`")]
    Unclosed(String),
    /// The text between the braces is not a valid variable name.
    #[error("invalid variable reference in template `{template}`: {reason}")]
    InvalidName {
        /// The whole template.
        template: String,
        /// Why the name is invalid.
        reason: String,
    },
}

impl Template {
    /// Parses `text`; `{{ name }}` (whitespace allowed inside the braces) references a variable.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(TemplatePart::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| TemplateError::Unclosed(text.to_owned()))?;
            let name = after[..close].trim();
            validate_variable_name(name)
                .map_err(|e| TemplateError::InvalidName { template: text.to_owned(), reason: e.to_string() })?;
            parts.push(TemplatePart::Variable(name.to_owned()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(TemplatePart::Literal(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// The parts, in order.
    pub fn parts(&self) -> &[TemplatePart] {
        &self.parts
    }

    /// The names of the variables referenced.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Variable(v) => Some(v.as_str()),
            TemplatePart::Literal(_) => None,
        })
    }

    /// Fills in the template, asking `lookup` for each variable.
    pub fn render(&self, lookup: impl Fn(&str) -> anyhow::Result<String>) -> anyhow::Result<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Literal(text) => out.push_str(text),
                TemplatePart::Variable(name) => out.push_str(&lookup(name)?),
            }
        }
        Ok(out)
    }
}

/// Resolves app variables (once, at construction) and renders templates over them.
pub struct VariableResolver {
    declared: BTreeMap<String, LockedVariable>,
    values: BTreeMap<String, String>,
    unresolved: Vec<String>,
}

impl VariableResolver {
    /// Resolves every declared variable from `providers` (in order), then its default.
    pub fn new(variables: &BTreeMap<String, LockedVariable>, providers: Vec<Box<dyn Provider>>) -> Self {
        let mut values = BTreeMap::new();
        let mut unresolved = Vec::new();
        for (name, variable) in variables {
            let value = providers.iter().find_map(|p| p.get(name)).or_else(|| variable.default.clone());
            match value {
                Some(v) => {
                    values.insert(name.clone(), v);
                }
                None => unresolved.push(name.clone()),
            }
        }
        Self { declared: variables.clone(), values, unresolved }
    }

    /// Fails when a required variable has no value from any provider.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.unresolved.is_empty() {
            Ok(())
        } else {
            bail!("no provider resolved required variable(s): {}", self.unresolved.join(", "))
        }
    }

    /// Renders a template over app variables (for allowed_outbound_hosts, trigger config, ...).
    pub fn render(&self, template: &str) -> anyhow::Result<String> {
        self.render_template(&self.parse_checked(template)?)
    }

    /// Resolves every component variable (`config`) of `component`.
    pub fn resolve_component(&self, component: &LockedComponent) -> anyhow::Result<BTreeMap<String, String>> {
        component
            .config
            .iter()
            .map(|(key, text)| {
                let value = self.render(text).with_context(|| format!("variable `{key}`"))?;
                Ok((key.clone(), value))
            })
            .collect()
    }

    fn parse_checked(&self, text: &str) -> anyhow::Result<Template> {
        let template = Template::parse(text)?;
        if let Some(unknown) = template.variables().find(|v| !self.declared.contains_key(*v)) {
            bail!("template `{text}` references `{unknown}`, which is not declared in [variables]");
        }
        Ok(template)
    }

    fn render_template(&self, template: &Template) -> anyhow::Result<String> {
        template.render(|name| {
            self.values.get(name).cloned().ok_or_else(|| anyhow!("no provider resolved required variable `{name}`"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_wins_over_the_dotenv_file_which_is_read_for_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "SPIN_VARIABLE_GREETING=from-file\n# a comment\nSPIN_VARIABLE_HOST=\"quoted host\"\n")
            .unwrap();
        let env = HashMap::from([("SPIN_VARIABLE_GREETING".to_string(), "from-env".to_string())]);
        let provider = EnvProvider::from_map(env).with_dotenv(&path).unwrap();
        assert_eq!(provider.get("greeting").as_deref(), Some("from-env"));
        assert_eq!(provider.get("host").as_deref(), Some("quoted host"));
        assert_eq!(provider.get("api_key"), None);
        let missing = EnvProvider::from_map(HashMap::new()).with_dotenv(&dir.path().join("none")).unwrap();
        assert_eq!(missing.get("host"), None);
        std::fs::write(&path, "NOT A LINE\n").unwrap();
        let err = EnvProvider::from_map(HashMap::new()).with_dotenv(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
    }

    fn var(default: Option<&str>) -> LockedVariable {
        LockedVariable { default: default.map(String::from), ..LockedVariable::default() }
    }

    fn declared() -> BTreeMap<String, LockedVariable> {
        BTreeMap::from([
            ("greeting".to_string(), var(Some("hello"))),
            ("api_key".to_string(), var(None)),
            ("host".to_string(), var(None)),
        ])
    }

    fn component() -> LockedComponent {
        LockedComponent {
            id: "web".into(),
            config: BTreeMap::from([
                ("message".into(), "{{greeting}}, {{ host }}!".into()),
                ("key".into(), "{{ api_key }}".into()),
            ]),
            ..LockedComponent::default()
        }
    }

    #[test]
    fn template_parsing() {
        let t = Template::parse("a {{ x }}b{{y2_z}}").unwrap();
        assert_eq!(
            t.parts(),
            &[
                TemplatePart::Literal("a ".into()),
                TemplatePart::Variable("x".into()),
                TemplatePart::Literal("b".into()),
                TemplatePart::Variable("y2_z".into()),
            ]
        );
        assert_eq!(Template::parse("plain }} text").unwrap().variables().count(), 0);
        assert!(matches!(Template::parse("a {{ x"), Err(TemplateError::Unclosed(_))));
        assert!(matches!(Template::parse("{{ Bad-Name }}"), Err(TemplateError::InvalidName { .. })));
        assert!(matches!(Template::parse("{{ }}"), Err(TemplateError::InvalidName { .. })));
    }

    #[test]
    fn providers_in_order_then_default() {
        let env = EnvProvider::from_map(HashMap::from([
            ("SPIN_VARIABLE_API_KEY".to_string(), "from-env".to_string()),
            ("SPIN_VARIABLE_HOST".to_string(), "env-host".to_string()),
            ("SPIN_VARIABLE_GREETING".to_string(), "env-hi".to_string()),
        ]));
        let cli = StaticProvider(BTreeMap::from([("host".into(), "cli-host".into())]));
        let r = VariableResolver::new(&declared(), vec![Box::new(cli), Box::new(env)]);
        r.validate().unwrap();
        let values = r.resolve_component(&component()).unwrap();
        assert_eq!(values["message"], "env-hi, cli-host!");
        assert_eq!(values["key"], "from-env");

        let r = VariableResolver::new(
            &declared(),
            vec![Box::new(StaticProvider(BTreeMap::from([
                ("host".into(), "h".into()),
                ("api_key".into(), "k".into()),
            ])))],
        );
        assert_eq!(r.render("{{ greeting }}").unwrap(), "hello");
    }

    #[test]
    fn env_provider_prefix() {
        let p = EnvProvider::with_prefix("MY", HashMap::from([("MY_API_KEY".to_string(), "v".to_string())]));
        assert_eq!(p.key_for("api_key"), "MY_API_KEY");
        assert_eq!(p.get("api_key").as_deref(), Some("v"));
        assert_eq!(p.get("other"), None);
    }

    #[test]
    fn missing_required_variables_fail_validation() {
        let r = VariableResolver::new(&declared(), vec![]);
        let err = r.validate().unwrap_err().to_string();
        assert_eq!(err, "no provider resolved required variable(s): api_key, host");
        let err = r.resolve_component(&component()).unwrap_err();
        assert_eq!(format!("{err:#}"), "variable `key`: no provider resolved required variable `api_key`");
    }

    #[test]
    fn render_rejects_undeclared_variables() {
        let r = VariableResolver::new(&declared(), vec![]);
        let err = r.render("redis://{{ nope }}:6379").unwrap_err().to_string();
        assert!(err.contains("`nope`, which is not declared"), "{err}");
        assert_eq!(r.render("no templates").unwrap(), "no templates");
    }

    #[test]
    fn component_variables_render_over_app_variables() {
        let providers: Vec<Box<dyn Provider>> = vec![Box::new(StaticProvider(BTreeMap::from([
            ("host".into(), "h".into()),
            ("api_key".into(), "k".into()),
        ])))];
        let r = VariableResolver::new(&declared(), providers);
        let values = r.resolve_component(&component()).unwrap();
        assert_eq!(values["message"], "hello, h!");
        let mut bad = component();
        bad.config.insert("x".into(), "{{ undeclared }}".into());
        let err = r.resolve_component(&bad).unwrap_err();
        assert!(format!("{err:#}").starts_with("variable `x`"), "{err:#}");
    }
}
