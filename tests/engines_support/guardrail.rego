# The guardrail of issue 14 §3 as a Gatekeeper / OPA user writes it: "deny an image with a
# fixable critical or a known-exploited vulnerability on an internet-facing app, unless an
# unexpired exception covers it".
#
# input: the AdmissionReview (OPA's kube-mgmt / a plain OPA webhook; Gatekeeper wraps the
#        same object as input.review).
# data:  what a sync (Gatekeeper's `data.inventory`, kube-mgmt's replication) gives it,
#        keyed for lookups as a careful user would: vulnerabilities by image reference, the
#        CISA KEV catalog by CVE id, AppPostures by namespace, RiskExceptions as a list.
package stance.guardrail

import rego.v1

request := input.request

pod := request.object

labels := object.get(pod.metadata, "labels", {})

# The names of the internet-facing applications the Pod belongs to (AppPosture selectors).
internet_apps contains app.name if {
	some app in object.get(data.apps, request.namespace, [])
	app.exposure == "internet"
	every k, v in app.selector {
		labels[k] == v
	}
}

images contains c.image if {
	some c in pod.spec.containers
}

images contains c.image if {
	some c in object.get(pod.spec, "initContainers", [])
}

severity_rank := {"UNKNOWN": 0, "INFO": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}

# critical-fixable: above HIGH, with a fixed version.
broken(v) := "critical-fixable" if {
	severity_rank[v.severity] > 4
	v.fixedVersion != ""
}

# kev: on the KEV catalog, any known severity.
broken_kev(v) if {
	data.kev[v.id]
	severity_rank[v.severity] > 0
}

excepted(rule, id) if {
	some e in data.exceptions
	e.policy == "internet-facing-critical-or-kev"
	rule in e.rules
	id in e.findings
	request.namespace in e.namespaces
	some app in internet_apps
	app in e.apps
	time.parse_rfc3339_ns(e.expires) > time.now_ns()
}

violation contains msg if {
	count(internet_apps) > 0
	some image in images
	some v in object.get(data.vulnerabilities, image, [])
	rule := broken(v)
	not excepted(rule, v.id)
	msg := sprintf("[%s] image %s: %s %s is fixed in %s", [rule, image, v.id, v.severity, v.fixedVersion])
}

violation contains msg if {
	count(internet_apps) > 0
	some image in images
	some v in object.get(data.vulnerabilities, image, [])
	broken_kev(v)
	not excepted("kev", v.id)
	msg := sprintf("[kev] image %s: %s %s is known exploited", [image, v.id, v.severity])
}
