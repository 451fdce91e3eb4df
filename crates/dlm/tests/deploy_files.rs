//! Checks the deployment files against the real `dlm` binary, because no
//! container engine runs in the tests. Every subcommand, flag and DLM_*
//! environment variable that docker-compose.yml and deploy/kubernetes use
//! must appear in `dlm --help` or the subcommand's `--help`. The ports they
//! publish must be the ones the configured addresses listen on, and
//! deploy/Dockerfile must build `dlm` in one stage and run it as a non-root
//! user in another.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn repository_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

fn help_text(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_dlm"))
        .args(args)
        .arg("--help")
        .output()
        .expect("cannot run dlm");
    assert!(output.status.success(), "dlm {args:?} --help failed");
    String::from_utf8(output.stdout).expect("help text is UTF-8")
}

/// Flags and environment variables one help text documents.
#[derive(Debug, Default)]
struct Accepted {
    flags: BTreeSet<String>,
    env: BTreeSet<String>,
}

/// Reads `--flag` names and `[env: NAME...]` entries from a help text. Words
/// are rejoined first, so wrapped lines do not split an entry.
fn parse_help(text: &str) -> Accepted {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut accepted = Accepted::default();
    for word in text.split([' ', ',', '[', ']', '=', '(', ')']) {
        if let Some(name) = word.strip_prefix("--") {
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            accepted.flags.insert(format!("--{name}"));
        }
    }
    for (index, _) in text.match_indices("env: ") {
        let name: String = text[index + 5..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        accepted.env.insert(name);
    }
    accepted
}

/// Returns the DLM_* variables a help text names anywhere, as the top-level
/// help does in prose for the variables every subcommand reads.
fn named_variables(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("DLM_"))
        .map(str::to_string)
        .collect()
}

/// Returns the subcommands `dlm --help` lists, with what each accepts,
/// including the options every subcommand inherits from the top level.
fn accepted_by_binary() -> BTreeMap<String, Accepted> {
    let top_help = help_text(&[]);
    let mut global = parse_help(&top_help);
    global.env.extend(named_variables(&top_help));
    // A command's line is indented by two spaces; wrapped descriptions by more.
    let commands = top_help
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help");

    let mut accepted = BTreeMap::new();
    for command in commands {
        let mut own = parse_help(&help_text(&[command]));
        own.flags.extend(global.flags.iter().cloned());
        own.env.extend(global.env.iter().cloned());
        accepted.insert(command.to_string(), own);
    }
    assert!(
        accepted.contains_key("serve"),
        "dlm --help lists no serve: {top_help}"
    );
    assert!(
        accepted.contains_key("worker"),
        "dlm --help lists no worker: {top_help}"
    );
    accepted
}

/// One `dlm` container of a deployment file: its arguments after the
/// entry point, its environment and its container ports (exposed in
/// Kubernetes, published in docker-compose.yml).
#[derive(Debug)]
struct Container {
    origin: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    ports: BTreeSet<u16>,
}

impl Container {
    fn subcommand(&self) -> &str {
        self.args.first().map_or("", String::as_str)
    }

    /// Returns the port of the socket address in `variable`, if set.
    fn address_port(&self, variable: &str) -> Option<u16> {
        let value = self.env.get(variable)?;
        let address: SocketAddr = value
            .parse()
            .unwrap_or_else(|_| panic!("{}: {variable}={value:?} is not HOST:PORT", self.origin));
        Some(address.port())
    }
}

fn check_against_binary(container: &Container, accepted: &BTreeMap<String, Accepted>) {
    let origin = &container.origin;
    let Some(allowed) = accepted.get(container.subcommand()) else {
        panic!(
            "{origin}: `dlm {}` is not a subcommand of dlm",
            container.subcommand()
        );
    };
    for arg in container
        .args
        .iter()
        .skip(1)
        .filter(|arg| arg.starts_with("--"))
    {
        let flag = arg.split('=').next().unwrap();
        assert!(
            allowed.flags.contains(flag),
            "{origin}: dlm {} has no {flag}",
            container.subcommand()
        );
    }
    for name in container.env.keys().filter(|name| name.starts_with("DLM_")) {
        assert!(
            allowed.env.contains(name),
            "{origin}: dlm {} does not read {name}; it reads {:?}",
            container.subcommand(),
            allowed.env
        );
    }
}

/// Checks that a coordinator container exposes the ports its gRPC and HTTP
/// addresses listen on.
fn check_listen_ports(container: &Container) {
    for variable in ["DLM_GRPC_ADDR", "DLM_HTTP_ADDR"] {
        if let Some(port) = container.address_port(variable) {
            assert!(
                container.ports.contains(&port),
                "{}: {variable} listens on {port}, but the ports are {:?}",
                container.origin,
                container.ports
            );
        }
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn compose_containers(compose: &Value) -> BTreeMap<String, Container> {
    let services = compose["services"]
        .as_object()
        .expect("compose has services");
    let mut containers = BTreeMap::new();
    for (name, service) in services {
        if service["build"]["dockerfile"] != "deploy/Dockerfile" {
            continue;
        }
        let args = service["command"].as_array().expect("a command list");
        let env = service["environment"]
            .as_object()
            .expect("an environment map");
        let ports = service["ports"].as_array().map_or(&[][..], Vec::as_slice);
        containers.insert(
            name.clone(),
            Container {
                origin: format!("docker-compose.yml service {name}"),
                args: args.iter().map(text).collect(),
                env: env
                    .iter()
                    .map(|(key, value)| (key.clone(), text(value)))
                    .collect(),
                // Published ports as HOST_IP:HOST_PORT:CONTAINER_PORT; the
                // container side counts.
                ports: ports
                    .iter()
                    .map(|port| text(port).rsplit(':').next().unwrap().parse().unwrap())
                    .collect(),
            },
        );
    }
    containers
}

#[test]
fn compose_file_matches_binary() {
    let accepted = accepted_by_binary();
    let compose: Value = serde_saphyr::from_str(&repository_file("docker-compose.yml")).unwrap();
    let containers = compose_containers(&compose);
    let coordinator = &containers["coordinator"];
    let worker = &containers["worker"];

    for container in containers.values() {
        check_against_binary(container, &accepted);
    }
    assert_eq!(coordinator.subcommand(), "serve");
    assert_eq!(worker.subcommand(), "worker");

    // Ports: the worker dials the coordinator's gRPC port by service name on
    // the compose network, and the HTTP port, when set, is published.
    let grpc_port = coordinator
        .address_port("DLM_GRPC_ADDR")
        .expect("DLM_GRPC_ADDR set");
    assert_eq!(
        worker.env["DLM_COORDINATOR"],
        format!("http://coordinator:{grpc_port}")
    );
    if let Some(http_port) = coordinator.address_port("DLM_HTTP_ADDR") {
        assert!(
            coordinator.ports.contains(&http_port),
            "DLM_HTTP_ADDR listens on {http_port}, but the published ports are {:?}",
            coordinator.ports
        );
    }

    let database_url = &coordinator.env["DLM_DATABASE_URL"];
    let database_host = database_url
        .split('@')
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap();
    assert!(
        compose["services"].get(database_host).is_some(),
        "DLM_DATABASE_URL names host {database_host}, which is no service"
    );
}

fn kubernetes_documents() -> Vec<Value> {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kubernetes");
    let mut documents = Vec::new();
    for entry in std::fs::read_dir(&directory).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let parsed: Vec<Value> =
            serde_saphyr::from_multiple(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|error| panic!("{name} is not valid YAML: {error}"));
        documents.extend(parsed);
    }
    documents
}

fn kubernetes_containers(documents: &[Value], secret: &Value) -> BTreeMap<String, Container> {
    let mut containers = BTreeMap::new();
    for document in documents
        .iter()
        .filter(|document| document["kind"] == "Deployment")
    {
        let deployment = text(&document["metadata"]["name"]);
        let pod = &document["spec"]["template"]["spec"];
        for container in pod["containers"].as_array().unwrap() {
            if !text(&container["image"]).starts_with("dlm-sweep") {
                continue;
            }
            let origin = format!("deploy/kubernetes Deployment {deployment}");
            assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{origin}");
            let mut env = BTreeMap::new();
            for variable in container["env"].as_array().unwrap() {
                let name = text(&variable["name"]);
                let reference = &variable["valueFrom"]["secretKeyRef"];
                let value = if reference.is_object() {
                    let key = text(&reference["key"]);
                    assert_eq!(
                        reference["name"], secret["metadata"]["name"],
                        "{origin}: {name}"
                    );
                    let value = &secret["stringData"][&key];
                    assert!(
                        value.is_string(),
                        "{origin}: {name} reads missing secret key {key}"
                    );
                    text(value)
                } else {
                    text(&variable["value"])
                };
                env.insert(name, value);
            }
            let ports = container["ports"].as_array().map_or(&[][..], Vec::as_slice);
            containers.insert(
                deployment.clone(),
                Container {
                    origin,
                    args: container["args"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(text)
                        .collect(),
                    env,
                    ports: ports
                        .iter()
                        .map(|port| port["containerPort"].as_u64().unwrap() as u16)
                        .collect(),
                },
            );
        }
    }
    containers
}

#[test]
fn kubernetes_files_match_binary() {
    let accepted = accepted_by_binary();
    let documents = kubernetes_documents();
    let secret = documents
        .iter()
        .find(|document| document["kind"] == "Secret")
        .expect("a Secret with the credentials");
    let containers = kubernetes_containers(&documents, secret);
    let coordinator = &containers["dlm-coordinator"];
    let worker = &containers["dlm-worker"];

    for container in containers.values() {
        check_against_binary(container, &accepted);
    }
    assert_eq!(coordinator.subcommand(), "serve");
    assert_eq!(worker.subcommand(), "worker");
    check_listen_ports(coordinator);

    // The worker dials a Service that forwards to the coordinator's gRPC port.
    let grpc_port = coordinator
        .address_port("DLM_GRPC_ADDR")
        .expect("DLM_GRPC_ADDR set");
    let target = worker.env["DLM_COORDINATOR"]
        .strip_prefix("http://")
        .unwrap();
    let (service_name, service_port) = target.split_once(':').unwrap();
    let service = documents
        .iter()
        .find(|document| {
            document["kind"] == "Service" && document["metadata"]["name"] == service_name
        })
        .unwrap_or_else(|| panic!("no Service {service_name} for DLM_COORDINATOR"));
    let forwarded = service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|port| text(&port["port"]) == service_port)
        .unwrap_or_else(|| panic!("Service {service_name} has no port {service_port}"));
    let container_ports = documents
        .iter()
        .filter(|document| document["metadata"]["name"] == "dlm-coordinator")
        .filter_map(|document| document["spec"]["template"]["spec"]["containers"].as_array())
        .flatten()
        .flat_map(|container| container["ports"].as_array().unwrap().iter())
        .find(|port| port["name"] == forwarded["targetPort"])
        .expect("the Service's targetPort names a coordinator port");
    assert_eq!(
        container_ports["containerPort"].as_u64(),
        Some(u64::from(grpc_port))
    );
}

/// Returns the Dockerfile's instructions, with continuation lines joined.
fn dockerfile_instructions() -> Vec<(String, String)> {
    let joined = repository_file("deploy/Dockerfile").replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (instruction, rest) = line.split_once(' ').unwrap_or((line, ""));
            (instruction.to_uppercase(), rest.trim().to_string())
        })
        .collect()
}

#[test]
fn dockerfile_builds_dlm_and_runs_unprivileged() {
    let instructions = dockerfile_instructions();
    let stages: Vec<&String> = instructions
        .iter()
        .filter(|(instruction, _)| instruction == "FROM")
        .map(|(_, rest)| rest)
        .collect();
    assert!(stages.len() >= 2, "a multi-stage build: {stages:?}");
    let build_stage = stages[0]
        .split(" AS ")
        .nth(1)
        .expect("the build stage is named")
        .trim();

    let builds_dlm = instructions.iter().any(|(instruction, rest)| {
        instruction == "RUN" && rest.contains("cargo build --release") && rest.contains("--bin dlm")
    });
    assert!(
        builds_dlm,
        "the build stage runs cargo build --release --bin dlm"
    );
    let copy = instructions
        .iter()
        .find(|(instruction, rest)| instruction == "COPY" && rest.starts_with("--from="))
        .map(|(_, rest)| rest.clone())
        .expect("the runtime stage copies from the build stage");
    let parts: Vec<&str> = copy.split_whitespace().collect();
    assert_eq!(
        parts,
        [
            &format!("--from={build_stage}")[..],
            "/src/target/release/dlm",
            "/usr/local/bin/dlm"
        ]
    );

    // The runtime stage runs as a named user other than root.
    let runtime_start = instructions
        .iter()
        .rposition(|(instruction, _)| instruction == "FROM")
        .unwrap();
    let runtime = &instructions[runtime_start..];
    let user = runtime
        .iter()
        .rfind(|(instruction, _)| instruction == "USER")
        .map(|(_, rest)| rest.as_str())
        .expect("the runtime stage sets USER");
    assert!(!["root", "0", "0:0"].contains(&user), "USER {user} is root");
    let creates_user = runtime.iter().any(|(instruction, rest)| {
        instruction == "RUN" && rest.contains("useradd") && rest.contains(&format!(" {user}"))
    });
    assert!(creates_user, "the runtime stage creates user {user}");
    assert!(
        runtime.contains(&("ENTRYPOINT".to_string(), "[\"dlm\"]".to_string())),
        "ENTRYPOINT runs dlm from the PATH"
    );

    let exposed: BTreeSet<u16> = runtime
        .iter()
        .filter(|(instruction, _)| instruction == "EXPOSE")
        .flat_map(|(_, rest)| rest.split_whitespace().map(|port| port.parse().unwrap()))
        .collect();
    let compose: Value = serde_saphyr::from_str(&repository_file("docker-compose.yml")).unwrap();
    for container in compose_containers(&compose).values() {
        for variable in ["DLM_GRPC_ADDR", "DLM_HTTP_ADDR"] {
            if let Some(port) = container.address_port(variable) {
                assert!(
                    exposed.contains(&port),
                    "{variable} port {port} not in EXPOSE {exposed:?}"
                );
            }
        }
    }
}
