#!/usr/bin/env python3
"""The YAML half of `make check-deploy`: every YAML file under deploy/ parses; the Kubernetes manifests validate
against the Kubernetes API schemas kubernetes-validate bundles (strict: unknown fields are errors), and KEDA's
resources, which are CRDs it has no schema for, against the subset of KEDA's CRD schema below; compose.yaml has
the services, secrets and settings deploy/README.md promises. Prints one line per check and exits 1 on any failure.
"""
import pathlib
import sys

import jsonschema
import kubernetes_validate
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
KUBERNETES_VERSION = "1.30.0"  # the oldest release still supported upstream when this was written
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


# KEDA v2 (keda.sh/v1alpha1), the fields these manifests may use; unknown fields are errors, as in strict mode.
KEDA_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def keda_resource(kind, spec):
    """A keda.sh/v1alpha1 resource of `kind` whose spec follows `spec`."""
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "keda.sh/v1alpha1"},
            "kind": {"const": kind},
            "metadata": {"type": "object", "required": ["name"]},
            "spec": spec,
        },
    }


KEDA_SCHEMAS = {
    "ScaledObject": keda_resource("ScaledObject", {
        "type": "object",
        "required": ["scaleTargetRef", "triggers"],
        "additionalProperties": False,
        "properties": {
            "scaleTargetRef": {
                "type": "object", "required": ["name"], "additionalProperties": False,
                "properties": {"name": {"type": "string"}, "kind": {"type": "string"},
                               "apiVersion": {"type": "string"}, "envSourceContainerName": {"type": "string"}},
            },
            "pollingInterval": {"type": "integer", "minimum": 1},
            "cooldownPeriod": {"type": "integer", "minimum": 0},
            "initialCooldownPeriod": {"type": "integer", "minimum": 0},
            "idleReplicaCount": {"type": "integer", "minimum": 0},
            "minReplicaCount": {"type": "integer", "minimum": 0},
            "maxReplicaCount": {"type": "integer", "minimum": 1},
            "fallback": {"type": "object"},
            "advanced": {
                "type": "object", "additionalProperties": False,
                "properties": {"restoreToOriginalReplicaCount": {"type": "boolean"},
                               "horizontalPodAutoscalerConfig": {"type": "object"},
                               "scalingModifiers": {"type": "object"}},
            },
            "triggers": {
                "type": "array", "minItems": 1,
                "items": {
                    "type": "object", "required": ["type", "metadata"], "additionalProperties": False,
                    "properties": {
                        "type": {"type": "string"}, "name": {"type": "string"},
                        "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                        "useCachedMetrics": {"type": "boolean"},
                        "metadata": KEDA_STRING_MAP,
                        "authenticationRef": {
                            "type": "object", "required": ["name"], "additionalProperties": False,
                            "properties": {"name": {"type": "string"},
                                           "kind": {"enum": ["TriggerAuthentication",
                                                             "ClusterTriggerAuthentication"]}},
                        },
                    },
                },
            },
        },
    }),
    "TriggerAuthentication": keda_resource("TriggerAuthentication", {
        "type": "object", "additionalProperties": False,
        "properties": {
            "secretTargetRef": {
                "type": "array",
                "items": {"type": "object", "required": ["parameter", "name", "key"],
                          "additionalProperties": False,
                          "properties": {"parameter": {"type": "string"}, "name": {"type": "string"},
                                         "key": {"type": "string"}}},
            },
            "env": {"type": "array"}, "podIdentity": {"type": "object"},
        },
    }),
}
# The postgresql scaler needs its query and target, and a connection from somewhere.
POSTGRES_METADATA = {"query", "targetQueryValue"}
POSTGRES_CONNECTION = {"connectionFromEnv", "host"}


def check_keda(path, doc, documents):
    name = f"{path.relative_to(ROOT)}: {doc['kind']}/{doc.get('metadata', {}).get('name')}"
    errors = sorted(jsonschema.Draft202012Validator(KEDA_SCHEMAS[doc["kind"]]).iter_errors(doc), key=str)
    check(not errors, f"{name} against KEDA's schema" + "".join(f"\n      {e.json_path}: {e.message}" for e in errors))
    if doc["kind"] != "ScaledObject" or errors:
        return
    for trigger in doc["spec"]["triggers"]:
        if trigger["type"] != "postgresql":
            continue
        metadata = trigger["metadata"]
        check(POSTGRES_METADATA <= metadata.keys(), f"{name}: the postgresql trigger has query and targetQueryValue")
        auth = trigger.get("authenticationRef", {}).get("name")
        auths = [d for d in documents if d.get("kind") == "TriggerAuthentication" and d["metadata"]["name"] == auth]
        via_auth = any(ref["parameter"] == "connection" for d in auths for ref in d["spec"].get("secretTargetRef", []))
        check(via_auth or bool(POSTGRES_CONNECTION & metadata.keys()),
              f"{name}: the postgresql trigger gets a connection (TriggerAuthentication {auth!r} or metadata)")
        check("send_jobs" in metadata.get("query", ""), f"{name}: the query counts the send queue")


def check_kubernetes(path, documents):
    for doc in documents:
        kind = doc.get("kind")
        if kind in KEDA_SCHEMAS:
            check_keda(path, doc, documents)
            continue
        name = f"{path.relative_to(ROOT)}: {kind}/{doc.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            check(True, f"{name} against Kubernetes {KUBERNETES_VERSION}")
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path) or "(top)"
            check(False, f"{name} against Kubernetes {KUBERNETES_VERSION}: {where}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            check(False, f"{name}: no schema for it ({error}); add one here or remove it")
        if kind in ("Deployment", "Job", "CronJob"):
            check_pod(name, doc)


def check_pod(name, doc):
    """What every ciclo pod promises: non-root, secrets as files, the right grace period for workers."""
    spec = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"] if doc["kind"] == "CronJob" \
        else doc["spec"]["template"]["spec"]
    check(spec.get("securityContext", {}).get("runAsNonRoot") is True, f"{name}: runs as non-root")
    for container in spec["containers"]:
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        check(env.get("CICLO_DATABASE_URL_FILE", "").startswith("/run/secrets/"),
              f"{name}: the database URL is a mounted file")
        check(not any(k in env for k in ("CICLO_DATABASE_URL", "CICLO_TOKEN_SECRET")),
              f"{name}: no secret in a plain environment variable")
        check("requests" in container.get("resources", {}), f"{name}: has resource requests")
        if container["args"][0] == "worker":
            grace = spec.get("terminationGracePeriodSeconds", 30)
            timeout = float(container["args"][container["args"].index("--shutdown-timeout") + 1])
            check(grace > timeout + 10, f"{name}: grace period {grace} s outlasts the drain bound {timeout} s")


def check_compose(path, doc):
    services = doc.get("services", {})
    required = {"postgres", "migrate", "scheduler", "worker", "reporter", "maintenance"}
    check(required <= services.keys(), f"compose: services {sorted(required)} (has {sorted(services)})")
    check(doc["services"]["postgres"]["image"].startswith("postgres:15"), "compose: PostgreSQL 15")
    check("healthcheck" in services["postgres"], "compose: postgres has a healthcheck")
    check(services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy",
          "compose: migrate waits for a healthy postgres")
    check(services["worker"].get("deploy", {}).get("replicas") == 2, "compose: two workers")
    check("8080:8080" in services["reporter"].get("ports", []), "compose: the reporter on port 8080")
    declared = doc.get("secrets", {})
    for name in required - {"postgres"}:
        service = services[name]
        if name != "migrate":
            check(service["depends_on"]["migrate"]["condition"] == "service_completed_successfully",
                  f"compose: {name} starts after the migrations succeed")
        env = service.get("environment", {})
        check(env.get("CICLO_DATABASE_URL_FILE") == "/run/secrets/database_url",
              f"compose: {name} reads its database URL from a secret file")
        check("CICLO_DATABASE_URL" not in env and "CICLO_TOKEN_SECRET" not in env,
              f"compose: {name} has no secret in its environment")
        targets = {(s["target"] if isinstance(s, dict) else s) for s in service.get("secrets", [])}
        check("database_url" in targets, f"compose: {name} mounts its database URL")
        sources = {(s["source"] if isinstance(s, dict) else s) for s in service.get("secrets", [])}
        check(sources <= declared.keys(), f"compose: {name}'s secrets {sorted(sources)} are declared")
        if "CICLO_TOKEN_SECRET_FILE" in env:
            check("token_secret" in targets, f"compose: {name} mounts the token secret it reads")
    for name, secret in declared.items():
        check(secret.get("file", "").startswith("./secrets/"), f"compose: secret {name} comes from deploy/secrets/")
    grace = services["worker"].get("stop_grace_period", "10s")
    check(int(grace.rstrip("s")) > 30, f"compose: the workers' stop grace period ({grace}) outlasts their drain")


def main():
    paths = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))
    check(len(paths) >= 8, f"{len(paths)} YAML files under deploy/")
    for path in paths:
        try:
            documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except yaml.YAMLError as error:
            check(False, f"{path.relative_to(ROOT)} parses: {error}")
            continue
        check(bool(documents), f"{path.relative_to(ROOT)} parses ({len(documents)} document(s))")
        if path.parent.name in ("kubernetes", "examples") and "kubernetes" in path.parts:
            check_kubernetes(path, documents)
        elif path.name == "compose.yaml":
            check_compose(path, documents[0])
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
