//! The agent's binary as a child process: started on ephemeral loopback ports with `--set`
//! overrides, its addresses and log lines read from stderr, stopped with SIGTERM or SIGKILL.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

pub const BINARY: &str = env!("CARGO_BIN_EXE_genai-cost-agent");

pub fn repository_file(name: &str) -> String {
    format!("{}/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub struct RunningBinary {
    pub child: Child,
    pub grpc: String,
    pub http: String,
    /// The health and self-metrics server.
    pub telemetry: String,
    stdout: mpsc::Receiver<String>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for RunningBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RunningBinary {
    /// The log lines (stderr) so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Resident memory of the process in KiB, from /proc.
    pub fn resident_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The highest resident memory of the process so far in KiB (`VmHWM`).
    pub fn peak_resident_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// The agent's own metrics, in the Prometheus text format.
    pub fn self_metrics(&self) -> String {
        let output = Command::new("curl")
            .args(["-sS", "--max-time", "10"])
            .arg(format!("http://{}/metrics", self.telemetry))
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The value of the metric line starting with `series` (name and labels), if present.
    pub fn self_metric(&self, series: &str) -> Option<f64> {
        self.self_metrics()
            .lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
    }

    /// CPU time (user + system) the process has used, from /proc/<pid>/stat.
    pub fn cpu_time(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<u64> = after
            .split_whitespace()
            .map(|field| field.parse().unwrap_or(0))
            .collect();
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        let used = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
        Duration::from_millis(used * 1000 / ticks)
    }

    /// Kills the process at once (SIGKILL), as a crash or OOM kill would.
    pub fn kill_now(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

pub fn start_binary(overrides: &[&str]) -> RunningBinary {
    start_binary_with(overrides, |_| {})
}

/// Like [`start_binary`], letting `adjust` change the command first (limits, environment).
pub fn start_binary_with(overrides: &[&str], adjust: impl FnOnce(&mut Command)) -> RunningBinary {
    let mut command = Command::new(BINARY);
    adjust(&mut command);
    command.args(["--config", &repository_file("config.yaml")]);
    for assignment in [
        "receivers.otlp.protocols.grpc.endpoint=127.0.0.1:0",
        "receivers.otlp.protocols.http.endpoint=127.0.0.1:0",
        "service.telemetry.endpoint=127.0.0.1:0",
    ]
    .iter()
    .chain(overrides)
    {
        command.args(["--set", assignment]);
    }
    let mut child = command
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (address_sender, addresses) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log_lines = log.clone();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(address) = line.split("address=").nth(1) {
                let address = address
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let kind = if line.contains("gRPC") {
                    "grpc"
                } else if line.contains("HTTP") {
                    "http"
                } else if line.contains("/healthz") {
                    "telemetry"
                } else {
                    "other"
                };
                let _ = address_sender.send((kind, address));
            }
            log_lines.lock().unwrap().push(line);
        }
    });
    let mut stdout_pipe = child.stdout.take().unwrap();
    let (stdout_sender, stdout) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout_pipe.read_to_string(&mut text);
        let _ = stdout_sender.send(text);
    });
    let (mut grpc, mut http, mut telemetry) = (String::new(), String::new(), String::new());
    while grpc.is_empty() || http.is_empty() || telemetry.is_empty() {
        let (kind, address) = addresses
            .recv_timeout(Duration::from_secs(20))
            .expect("the agent logs its addresses");
        match kind {
            "grpc" => grpc = address,
            "http" => http = address,
            "telemetry" => telemetry = address,
            _ => {}
        }
    }
    RunningBinary {
        child,
        grpc,
        http,
        telemetry,
        stdout,
        log,
    }
}

/// Sends SIGTERM and waits (up to 20 s) for the exit; returns the exit code and stdout.
pub fn terminate(binary: &mut RunningBinary) -> (i32, String) {
    let status = Command::new("kill")
        .args(["-TERM", &binary.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = binary.child.try_wait().unwrap() {
            let stdout = binary
                .stdout
                .recv_timeout(Duration::from_secs(5))
                .unwrap_or_default();
            return (status.code().unwrap_or(-1), stdout);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the agent did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
