//! `workloadSecurity`: pod security settings.

use super::{Hit, Item};
use crate::guardrail::spec::WorkloadSecurityRule;
use crate::model::Workload;

/// A hit listing the pod security settings the workload breaks.
pub fn check<'a>(rule: &WorkloadSecurityRule, w: &'a Workload) -> Option<Hit<'a>> {
    let mut items = Vec::new();
    if rule.disallow_host_namespaces {
        for (on, name) in [(w.host_network, "hostNetwork"), (w.host_pid, "hostPID"), (w.host_ipc, "hostIPC")] {
            if on {
                items.push(Item::new(name, format!("{name}: true")));
            }
        }
    }
    if rule.disallow_host_path {
        for p in &w.host_paths {
            items.push(Item::new(format!("hostPath:{p}"), format!("hostPath volume {p}")));
        }
    }
    for c in &w.containers {
        let n = &c.name;
        if rule.disallow_privileged && c.privileged {
            items.push(Item::in_container(c, format!("privileged:{n}"), format!("container {n} is privileged")));
        }
        if rule.disallow_privilege_escalation && c.allow_privilege_escalation && !c.privileged {
            items.push(Item::in_container(
                c,
                format!("allowPrivilegeEscalation:{n}"),
                format!("container {n} allows privilege escalation (set allowPrivilegeEscalation: false)"),
            ));
        }
        if rule.require_run_as_non_root && c.may_run_as_root {
            items.push(Item::in_container(
                c,
                format!("runAsRoot:{n}"),
                format!("container {n} may run as root (set runAsNonRoot: true or a non-zero runAsUser)"),
            ));
        }
        if rule.require_resource_limits
            && c.kind != crate::model::ContainerKind::EphemeralContainer
            && !(c.has_cpu_limit && c.has_memory_limit)
        {
            let missing = match (c.has_cpu_limit, c.has_memory_limit) {
                (false, false) => "cpu and memory limits",
                (false, true) => "a cpu limit",
                _ => "a memory limit",
            };
            items.push(Item::in_container(c, format!("limits:{n}"), format!("container {n} has no {missing}")));
        }
    }
    if items.is_empty() {
        return None;
    }
    Some(Hit::workload(
        format!("{} {} has insecure pod settings", w.kind.as_str(), w.name),
        items,
        "Harden the pod spec (see the settings listed)",
    ))
}
