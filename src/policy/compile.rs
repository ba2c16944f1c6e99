//! `GuardrailPolicy` objects → validated, ready-to-evaluate [`Policy`] values.
//!
//! The index compiles each policy once when it is applied; an invalid policy is kept with
//! its error (shown in its status) and never evaluated. The same function can validate
//! a policy at admission, so what is admitted is what is enforced.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::version::Range;
use crate::api::guardrail_policy::{
    ComponentsRule, ExceptionSettings, GuardrailRule, ImageReferenceRule, OnUnscanned, OwnershipRule, RiskScoreRule,
    ScanRequiredRule, VulnerabilityRule, WorkloadSecurityRule,
};
use crate::api::{Criticality, Enforcement, Exposure, GuardrailPolicy};
use crate::model::{PurlParts, WorkloadKind};
use crate::selector;

/// A validated guardrail policy.
#[derive(Clone, Debug)]
pub struct Policy {
    pub name: Arc<str>,
    pub enforcement: Enforcement,
    pub matcher: Matcher,
    pub on_unscanned: OnUnscanned,
    pub new_risk_only: bool,
    pub exceptions: ExceptionSettings,
    pub rules: Vec<Rule>,
}

/// Which workloads a policy applies to.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    pub namespace_selector: Option<LabelSelector>,
    pub namespaces: Vec<String>,
    pub exclude_namespaces: Vec<String>,
    pub app_selector: Option<LabelSelector>,
    pub criticalities: Vec<Criticality>,
    pub exposures: Vec<Exposure>,
    pub kinds: Vec<WorkloadKind>,
}

/// One rule with its unique name.
#[derive(Clone, Debug)]
pub struct Rule {
    pub name: Arc<str>,
    pub check: Check,
}

/// The typed content of a rule.
#[derive(Clone, Debug)]
pub enum Check {
    Vulnerabilities(VulnerabilityRule),
    RiskScore(RiskScoreRule),
    ScanRequired(ScanRequiredRule),
    SbomRequired,
    Components(Components),
    ImageReference(ImageReferenceRule),
    WorkloadSecurity(WorkloadSecurityRule),
    Ownership(OwnershipRule),
}

impl Check {
    /// The rule type's name as written in the CRD (`vulnerabilities`, `riskScore`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Check::Vulnerabilities(_) => "vulnerabilities",
            Check::RiskScore(_) => "riskScore",
            Check::ScanRequired(_) => "scanRequired",
            Check::SbomRequired => "sbomRequired",
            Check::Components(_) => "components",
            Check::ImageReference(_) => "imageReference",
            Check::WorkloadSecurity(_) => "workloadSecurity",
            Check::Ownership(_) => "ownership",
        }
    }

    /// True for rules judged from scan results (subject to `onUnscanned`).
    pub fn needs_scan(&self) -> bool {
        matches!(self, Check::Vulnerabilities(_) | Check::RiskScore(_) | Check::Components(_))
    }
}

/// A compiled components rule.
#[derive(Clone, Debug)]
pub struct Components {
    pub banned: Vec<Banned>,
    /// Upper-case SPDX ids.
    pub denied_licenses: BTreeSet<String>,
}

/// A banned package: purl base (`pkg:type/namespace/name`) and version range.
#[derive(Clone, Debug)]
pub struct Banned {
    pub purl: PurlParts,
    pub base: String,
    pub range: Range,
    pub range_text: String,
    pub reason: Option<String>,
}

impl Policy {
    /// Validates a policy object. Errors name the field (`spec.rules[2].components.banned[0].versions`)
    /// and what to write instead.
    pub fn compile(p: &GuardrailPolicy) -> Result<Policy, String> {
        let spec = &p.spec;
        let name = p.metadata.name.as_deref().filter(|n| !n.is_empty()).ok_or("metadata.name is missing")?;
        let m = &spec.match_;
        for (field, sel) in [("namespaceSelector", &m.namespace_selector), ("appSelector", &m.app_selector)] {
            if let Some(s) = sel {
                selector::validate(s).map_err(|e| format!("spec.match.{field}: {e}"))?;
            }
        }
        let kinds = m
            .kinds
            .iter()
            .map(|k| {
                WorkloadKind::parse(k).ok_or_else(|| {
                    format!(
                        "spec.match.kinds: unknown kind {k:?} (use {})",
                        WorkloadKind::ALL.map(|k| k.as_str()).join(", ")
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if spec.rules.is_empty() {
            return Err("spec.rules is empty: a policy needs at least one rule".into());
        }
        let mut rules = Vec::with_capacity(spec.rules.len());
        let mut names = BTreeSet::new();
        for (i, r) in spec.rules.iter().enumerate() {
            let check = compile_rule(r).map_err(|e| format!("spec.rules[{i}]{e}"))?;
            let rule_name: Arc<str> = Arc::from(r.name.clone().unwrap_or_else(|| check.type_name().to_string()));
            if !names.insert(rule_name.clone()) {
                return Err(format!(
                    "spec.rules[{i}]: duplicate rule name {rule_name:?}; give each rule a unique `name`"
                ));
            }
            rules.push(Rule { name: rule_name, check });
        }
        Ok(Policy {
            name: Arc::from(name),
            enforcement: spec.enforcement,
            matcher: Matcher {
                namespace_selector: m.namespace_selector.clone(),
                namespaces: m.namespaces.clone(),
                exclude_namespaces: m.exclude_namespaces.clone(),
                app_selector: m.app_selector.clone(),
                criticalities: m.criticalities.clone(),
                exposures: m.exposures.clone(),
                kinds,
            },
            on_unscanned: spec.on_unscanned,
            new_risk_only: spec.new_risk_only,
            exceptions: spec.exceptions.clone(),
            rules,
        })
    }
}

fn compile_rule(r: &GuardrailRule) -> Result<Check, String> {
    let mut checks = Vec::new();
    if let Some(v) = &r.vulnerabilities {
        if let Some(e) = v.min_epss
            && !(0.0..=1.0).contains(&e)
        {
            return Err(format!(".vulnerabilities.minEpss: {e} is not between 0 and 1"));
        }
        checks.push(Check::Vulnerabilities(v.clone()));
    }
    if let Some(v) = &r.risk_score {
        if v.max > 100 {
            return Err(format!(".riskScore.max: {} is above 100", v.max));
        }
        checks.push(Check::RiskScore(v.clone()));
    }
    if let Some(v) = &r.scan_required {
        checks.push(Check::ScanRequired(v.clone()));
    }
    if r.sbom_required.is_some() {
        checks.push(Check::SbomRequired);
    }
    if let Some(v) = &r.components {
        checks.push(Check::Components(compile_components(v)?));
    }
    if let Some(v) = &r.image_reference {
        if v.allowed_registries.iter().any(|r| r.trim().is_empty()) {
            return Err(".imageReference.allowedRegistries: empty entry".into());
        }
        checks.push(Check::ImageReference(v.clone()));
    }
    if let Some(v) = &r.workload_security {
        checks.push(Check::WorkloadSecurity(v.clone()));
    }
    if let Some(v) = &r.ownership {
        checks.push(Check::Ownership(v.clone()));
    }
    match checks.len() {
        1 => Ok(checks.remove(0)),
        0 => Err(": sets no rule type; set exactly one of vulnerabilities, riskScore, scanRequired, sbomRequired, \
                  components, imageReference, workloadSecurity, ownership"
            .into()),
        _ => Err(format!(
            ": sets {} rule types ({}); split them into one rule each",
            checks.len(),
            checks.iter().map(Check::type_name).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn compile_components(c: &ComponentsRule) -> Result<Components, String> {
    let mut banned = Vec::new();
    for (i, b) in c.banned.iter().enumerate() {
        let purl = PurlParts::parse(&b.purl).ok_or_else(|| {
            format!(".components.banned[{i}].purl: {:?} is not a package URL (e.g. pkg:maven/org.apache.logging.log4j/log4j-core)", b.purl)
        })?;
        let range_text = b.versions.clone().unwrap_or_default();
        let range = Range::parse(&range_text).map_err(|e| format!(".components.banned[{i}].versions: {e}"))?;
        banned.push(Banned { base: purl.base(), purl, range, range_text, reason: b.reason.clone() });
    }
    Ok(Components {
        banned,
        denied_licenses: c.denied_licenses.iter().map(|l| l.trim().to_ascii_uppercase()).collect(),
    })
}
