//! The OpenAI-compatible backend against a real local HTTP server (axum) that speaks the
//! chat-completions protocol, with its behaviour scripted per test.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use maestro_rapp::negotiation::openai::{
    OpenAiBackend, OpenAiConfig, StructuredOutput, WireFormat,
};
use maestro_rapp::negotiation::{
    negotiate, AgentContext, AgentSpec, AnswerFormat, Bounds, LanguageModel, LlmError,
    NegotiationConfig, Personality, PressureMode, Prompt,
};
use serde_json::{json, Value};

/// What the server does for one request.
#[derive(Debug, Clone)]
struct Behaviour {
    delay: Duration,
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Behaviour {
    /// A 200 chat completion with `content`.
    fn answer(content: &str) -> Self {
        Self::raw(
            200,
            json!({
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop"
                }]
            })
            .to_string(),
        )
    }

    /// A 200 chat completion with `content` and a `usage` object.
    fn answer_with_usage(content: &str, prompt_tokens: u64, completion_tokens: u64) -> Self {
        Self::raw(
            200,
            json!({
                "choices": [{"message": {"role": "assistant", "content": content}}],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens
                }
            })
            .to_string(),
        )
    }

    /// Any status with any body.
    fn raw(status: u16, body: impl Into<String>) -> Self {
        Self {
            delay: Duration::ZERO,
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
struct Recorded {
    authorization: Option<String>,
    body: Value,
    /// When it arrived.
    at: Instant,
}

type Responder = Box<dyn Fn(&Value) -> Behaviour + Send + Sync>;

struct Mock {
    /// Consumed one per request, first to last.
    script: Mutex<VecDeque<Behaviour>>,
    /// Used when the script is exhausted.
    fallback: Responder,
    requests: Mutex<Vec<Recorded>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Mock {
    fn calls(&self) -> usize {
        self.requests
            .lock()
            .expect("the request log is not poisoned")
            .len()
    }

    fn recorded(&self) -> Vec<Recorded> {
        self.requests
            .lock()
            .expect("the request log is not poisoned")
            .clone()
    }

    /// Time between consecutive requests, as the server saw them arrive.
    fn gaps(&self) -> Vec<Duration> {
        let seen = self.recorded();
        seen.windows(2).map(|w| w[1].at - w[0].at).collect()
    }
}

struct InFlight<'a>(&'a Mock);

impl<'a> InFlight<'a> {
    fn enter(mock: &'a Mock) -> Self {
        let now = mock.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        mock.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(mock)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn chat_completions(
    State(mock): State<Arc<Mock>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    mock.requests
        .lock()
        .expect("the request log is not poisoned")
        .push(Recorded {
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: json.clone(),
            at: Instant::now(),
        });
    let next = mock
        .script
        .lock()
        .expect("the script is not poisoned")
        .pop_front();
    let behaviour = next.unwrap_or_else(|| (mock.fallback)(&json));
    let _in_flight = InFlight::enter(&mock);
    tokio::time::sleep(behaviour.delay).await;
    let mut response = Response::builder()
        .status(behaviour.status)
        .header("content-type", "application/json");
    for (name, value) in &behaviour.headers {
        response = response.header(*name, value);
    }
    response
        .body(Body::from(behaviour.body))
        .expect("a valid HTTP response")
}

/// Starts the server on 127.0.0.1:0; `script` first, then `fallback` for every request.
async fn serve(
    script: Vec<Behaviour>,
    fallback: impl Fn(&Value) -> Behaviour + Send + Sync + 'static,
) -> (SocketAddr, Arc<Mock>) {
    let mock = Arc::new(Mock {
        script: Mutex::new(script.into()),
        fallback: Box::new(fallback),
        requests: Mutex::new(Vec::new()),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the mock server");
    let addr = listener.local_addr().expect("the mock server's address");
    tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("the mock server serves");
    });
    (addr, mock)
}

fn config(addr: SocketAddr) -> OpenAiConfig {
    OpenAiConfig {
        base_url: format!("http://{addr}/v1"),
        model: "test-model".into(),
        api_key: None,
        timeout_ms: 5_000,
        max_retries: 3,
        backoff_ms: 10,
        max_concurrency: 8,
        temperature: 0.2,
        max_tokens: 256,
        structured_output: StructuredOutput::Auto,
    }
}

fn prompt(system: &str, user: &str) -> Prompt {
    Prompt {
        system: system.into(),
        user: user.into(),
        context: AgentContext {
            agent_id: "bo0".into(),
            business_intent: "video streaming".into(),
            personality: Personality::Normal,
            round: 1,
            own_target_mbps: 50.0,
            previous_value_mbps: None,
            optimizer_suggestion_mbps: 45.0,
            pressure: PressureMode::Soft,
            bounds: Bounds {
                min_mbps: 0.0,
                max_mbps: 100.0,
            },
            feedback: None,
            warning: None,
            citations: Vec::new(),
            correction: None,
            peers: Vec::new(),
            mediator_message: None,
            passages: Vec::new(),
        },
        format: AnswerFormat::Intent,
    }
}

fn reason(err: LlmError) -> String {
    match err {
        LlmError::Backend { reason, .. } => reason,
    }
}

const ANSWER: &str = r#"{"value": 42, "reasoning": "ok"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn normal_answer_sends_the_chat_request_and_counts_usage() {
    let (addr, mock) = serve(vec![Behaviour::answer_with_usage(ANSWER, 10, 5)], |_| {
        Behaviour::raw(500, "script exhausted")
    })
    .await;
    let backend = OpenAiBackend::new(OpenAiConfig {
        api_key: Some("sk-test".into()),
        temperature: 0.7,
        max_tokens: 99,
        ..config(addr)
    })
    .unwrap();
    assert_eq!(backend.name(), "openai:test-model");

    let text = backend
        .complete(&prompt("You negotiate.", "Round 1. State your demand."))
        .await
        .unwrap();
    assert_eq!(text, ANSWER);

    let seen = mock.recorded();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer sk-test"));
    let body = &seen[0].body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["temperature"], 0.7);
    assert_eq!(body["max_tokens"], 99);
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(messages[0]["content"], "You negotiate.");
    assert_eq!(messages[1]["role"], "user");
    assert_eq!(messages[1]["content"], "Round 1. State your demand.");

    let usage = backend.usage();
    assert_eq!(
        (usage.requests, usage.retries, usage.failures),
        (1, 0, 0),
        "{usage:?}"
    );
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (10, 5));
    let as_json = serde_json::to_value(usage).unwrap();
    assert_eq!(as_json["prompt_tokens"], 10);

    // Without a key there is no Authorization header; no usage object adds no tokens.
    let (addr, mock) = serve(Vec::new(), |_| Behaviour::answer("plain")).await;
    let keyless = OpenAiBackend::new(config(addr)).unwrap();
    assert_eq!(keyless.complete(&prompt("s", "u")).await.unwrap(), "plain");
    assert_eq!(mock.recorded()[0].authorization, None);
    let usage = keyless.usage();
    assert_eq!(
        (usage.requests, usage.prompt_tokens, usage.completion_tokens),
        (1, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_429_honours_retry_after() {
    let (addr, mock) = serve(
        vec![Behaviour::raw(429, r#"{"error": "rate limited"}"#).header("retry-after", "1")],
        |_| Behaviour::answer(ANSWER),
    )
    .await;
    let backend = OpenAiBackend::new(config(addr)).unwrap();
    let text = backend.complete(&prompt("s", "u")).await.unwrap();
    assert_eq!(text, ANSWER);
    assert_eq!(mock.calls(), 2);
    // The retry reached the server a second after the 429, not after the 10 ms backoff.
    let gap = mock.gaps()[0];
    assert!(
        gap >= Duration::from_millis(950),
        "Retry-After: 1 not honoured: the retry came {gap:?} after the 429"
    );
    let usage = backend.usage();
    assert_eq!(
        (usage.requests, usage.retries, usage.failures),
        (2, 1, 0),
        "{usage:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_500_twice_then_success_with_backoff() {
    let (addr, mock) = serve(
        vec![
            Behaviour::raw(500, "boom"),
            Behaviour::raw(500, "boom again"),
        ],
        |_| Behaviour::answer(ANSWER),
    )
    .await;
    let backend = OpenAiBackend::new(OpenAiConfig {
        backoff_ms: 100,
        ..config(addr)
    })
    .unwrap();
    let text = backend.complete(&prompt("s", "u")).await.unwrap();
    assert_eq!(text, ANSWER);
    // As the server saw the retries: 100 ms, then the backoff doubled to 200 ms.
    let gaps = mock.gaps();
    assert!(
        gaps[0] >= Duration::from_millis(100) && gaps[1] >= Duration::from_millis(200),
        "backoff 100 ms then 200 ms expected between the attempts, saw {gaps:?}"
    );
    let seen = mock.recorded();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|r| r.body == seen[0].body),
        "same request retried"
    );
    let usage = backend.usage();
    assert_eq!(
        (usage.requests, usage.retries, usage.failures),
        (3, 2, 0),
        "{usage:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_body_is_retried_then_reported() {
    let (addr, mock) = serve(Vec::new(), |_| Behaviour::raw(200, "not json")).await;
    let backend = OpenAiBackend::new(OpenAiConfig {
        max_retries: 2,
        ..config(addr)
    })
    .unwrap();
    let why = reason(backend.complete(&prompt("s", "u")).await.unwrap_err());
    assert!(why.contains("malformed"), "{why}");
    assert!(why.contains("gave up after 3 attempts"), "{why}");
    assert!(why.contains("not json"), "the body is quoted: {why}");
    assert_eq!(mock.calls(), 3);
    let usage = backend.usage();
    assert_eq!(
        (usage.requests, usage.retries, usage.failures),
        (3, 2, 1),
        "{usage:?}"
    );

    // Valid JSON of the wrong shape is malformed too.
    let (addr, mock) = serve(Vec::new(), |_| {
        Behaviour::raw(200, r#"{"choices": [{"message": {"role": "assistant"}}]}"#)
    })
    .await;
    let backend = OpenAiBackend::new(OpenAiConfig {
        max_retries: 0,
        ..config(addr)
    })
    .unwrap();
    let why = reason(backend.complete(&prompt("s", "u")).await.unwrap_err());
    assert!(
        why.contains(
            "gave up after 1 attempt: malformed completion: no choices[0].message.content"
        ),
        "{why}"
    );
    assert_eq!(mock.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hanging_server_times_out_per_attempt() {
    let (addr, mock) = serve(Vec::new(), |_| {
        Behaviour::answer(ANSWER).delayed(Duration::from_secs(120))
    })
    .await;
    let backend = OpenAiBackend::new(OpenAiConfig {
        timeout_ms: 200,
        max_retries: 1,
        ..config(addr)
    })
    .unwrap();
    // The server answers after 120 s: only the per-attempt timeout ends the call before the
    // 30 s deadline (a deadline for a hang, not a timing).
    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        backend.complete(&prompt("s", "u")),
    )
    .await
    .expect(
        "complete() did not give up within 30 s: the 200 ms per-attempt timeout is not applied",
    );
    let why = reason(outcome.unwrap_err());
    // The server saw the retry only once the first attempt had had its 200 ms.
    let gap = mock.gaps()[0];
    assert!(gap >= Duration::from_millis(200), "retried after {gap:?}");
    assert!(
        why.contains("gave up after 2 attempts: timed out after 200 ms"),
        "{why}"
    );
    assert_eq!(mock.calls(), 2);
    let usage = backend.usage();
    assert_eq!(
        (usage.requests, usage.retries, usage.failures),
        (2, 1, 1),
        "{usage:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_400_is_not_retried() {
    let long_body = format!(
        r#"{{"error": {{"message": "model 'nope' not found", "pad": "{}"}}}}"#,
        "z".repeat(400)
    );
    let (addr, mock) = serve(vec![Behaviour::raw(400, long_body.clone())], |_| {
        Behaviour::answer(ANSWER)
    })
    .await;
    let backend = OpenAiBackend::new(config(addr)).unwrap();
    let why = reason(backend.complete(&prompt("s", "u")).await.unwrap_err());
    assert!(why.contains("400"), "{why}");
    assert!(why.contains("model 'nope' not found"), "{why}");
    assert!(why.contains("not retried"), "{why}");
    assert!(
        !why.contains(&long_body) && why.contains(&long_body[..200]),
        "the first 200 chars of the body only: {why}"
    );
    assert_eq!(mock.calls(), 1, "a 400 is not retried");
    let usage = backend.usage();
    assert_eq!(
        (usage.requests, usage.retries, usage.failures),
        (1, 0, 1),
        "{usage:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_is_capped() {
    let (addr, mock) = serve(Vec::new(), |_| {
        Behaviour::answer(ANSWER).delayed(Duration::from_millis(200))
    })
    .await;
    let backend = OpenAiBackend::new(OpenAiConfig {
        max_concurrency: 2,
        ..config(addr)
    })
    .unwrap();
    let prompts: Vec<Prompt> = (0..6)
        .map(|i| prompt("s", &format!("request {i}")))
        .collect();
    let answers = futures::future::join_all(prompts.iter().map(|p| backend.complete(p))).await;
    assert_eq!(answers.len(), 6);
    assert!(
        answers.iter().all(|a| matches!(a.as_deref(), Ok(ANSWER))),
        "{answers:?}"
    );
    let max = mock.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 2, "at most 2 in flight, saw {max}");
    assert_eq!(max, 2, "the two permits were used in parallel");
    assert_eq!(mock.calls(), 6);
    assert_eq!(backend.usage().requests, 6);
}

const GARBAGE_MARKER: &str = "ZEBRA-OPERATOR";

/// A Normal agent with stake 1.
fn agent(id: &str, intent: &str, target: f64) -> AgentSpec {
    AgentSpec {
        id: id.into(),
        business_intent: intent.into(),
        target_mbps: target,
        weight: 1.0,
        personality: Personality::Normal,
        weight_above: None,
        utility: None,
    }
}

/// The agent's own intent line of a request (the first line of the user message): the other
/// agents' positions are quoted further down, so a marker in someone's intent shows up in
/// every agent's prompt from round 2 on.
fn own_intent(request: &Value) -> String {
    user_message(request)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn user_message(request: &Value) -> String {
    request["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn end_to_end_negotiation_with_one_garbage_agent() {
    let (addr, mock) = serve(Vec::new(), |request| {
        if own_intent(request).contains(GARBAGE_MARKER) {
            Behaviour::answer("I cannot comply")
        } else {
            Behaviour::answer("```json\n{\"value\": \"55 Mbps\", \"reasoning\": \"fine\"}\n```")
        }
    })
    .await;
    let backend = OpenAiBackend::new(config(addr)).unwrap();
    let agents = vec![
        agent("video", "Video streaming for a stadium.", 40.0),
        agent("iot", "Massive IoT telemetry.", 70.0),
        agent(
            "zebra",
            &format!("{GARBAGE_MARKER}: we never answer in JSON."),
            90.0,
        ),
    ];
    let cfg = NegotiationConfig {
        max_rounds: 3,
        // Soft pressure: the optimizer advises, so the agents' own 55 Mbps stands (under hard
        // pressure the validation unit would replace it with the directive).
        pressure: PressureMode::Soft,
        ..Default::default()
    };
    let out = negotiate(&cfg, &agents, &backend).await.unwrap();

    assert_eq!(out.llm, "openai:test-model");
    assert!(out.rounds >= 1 && out.rounds <= 3, "{}", out.rounds);
    assert_eq!(out.history.len(), out.rounds as usize + 1);
    let mut zebra_answers = 0;
    for record in &out.history[1..] {
        assert_eq!(record.intents.len(), 3);
        for (i, intent) in record.intents.iter().enumerate() {
            let turn = &record.turns[i];
            if intent.agent_id == "zebra" {
                assert!(turn.substituted, "round {}: {turn:?}", record.round);
                let why = format!("{} {}", intent.reasoning, turn.validation.join(" "));
                assert!(why.contains("fallback"), "round {}: {why}", record.round);
                assert!(
                    why.contains("no JSON object found"),
                    "the extraction error is kept: {why}"
                );
                assert_eq!(intent.value_mbps, record.optimizer_suggestions[i]);
                assert!(turn.raw_answers.iter().all(|a| a == "I cannot comply"));
                zebra_answers += turn.raw_answers.len();
            } else {
                assert_eq!(intent.value_mbps, 55.0, "{intent:?} {turn:?}");
                assert_eq!(intent.reasoning, "fine");
                assert!(!turn.substituted);
            }
        }
    }
    assert_eq!(out.finals["video"], 55.0);
    assert_eq!(out.finals["iot"], 55.0);

    // Every request reached the server once; the good agents were asked once per round, the
    // garbage agent once per raw answer in the transcript.
    let seen = mock.recorded();
    let zebra_requests = seen
        .iter()
        .filter(|r| own_intent(&r.body).contains(GARBAGE_MARKER))
        .count();
    assert_eq!(zebra_requests, zebra_answers);
    assert!(zebra_requests >= out.rounds as usize);
    assert_eq!(seen.len(), 2 * out.rounds as usize + zebra_requests);
    let usage = backend.usage();
    assert_eq!(usage.requests as usize, seen.len());
    assert_eq!((usage.retries, usage.failures), (0, 0), "{usage:?}");
    // The outcome (and so the transcript) records what this negotiation used.
    let recorded = out.llm_usage.expect("the OpenAI backend counts its usage");
    assert_eq!(recorded.requests as usize, seen.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_endpoints_speak_tls() {
    // A plain-HTTP server addressed as https://: the backend must attempt a TLS handshake
    // (so hosted endpoints work), fail it, and say so; the server sees no chat request.
    let (addr, mock) = serve(Vec::new(), |_| Behaviour::answer(ANSWER)).await;
    let mut cfg = config(addr);
    cfg.base_url = format!("https://{addr}/v1");
    cfg.max_retries = 0;
    let backend = OpenAiBackend::new(cfg).unwrap();
    let why = reason(backend.complete(&prompt("s", "u")).await.unwrap_err());
    assert!(!why.contains("scheme"), "TLS is compiled in: {why}");
    assert_eq!(
        mock.calls(),
        0,
        "no plain-text request reached the server: {why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn negotiation_survives_a_hung_agent_and_a_429_storm() {
    // "slow" hangs past the timeout on every request; "busy" gets 429 on its first request of
    // the negotiation, then answers; "calm" always answers.
    let busy_hits = Arc::new(AtomicUsize::new(0));
    let hits = Arc::clone(&busy_hits);
    let (addr, _mock) = serve(Vec::new(), move |request| {
        let user = own_intent(request);
        if user.contains("SLOW-OPERATOR") {
            Behaviour::answer("{\"value\": 1}").delayed(Duration::from_secs(5))
        } else if user.contains("BUSY-OPERATOR") && hits.fetch_add(1, Ordering::SeqCst) == 0 {
            Behaviour::raw(429, "{\"error\": \"rate limited\"}").header("Retry-After", "0")
        } else {
            Behaviour::answer("{\"value\": 50, \"reasoning\": \"meet in the middle\"}")
        }
    })
    .await;
    let mut cfg = config(addr);
    cfg.timeout_ms = 150;
    cfg.max_retries = 1;
    let backend = OpenAiBackend::new(cfg).unwrap();
    let agents = vec![
        agent("slow", "SLOW-OPERATOR needs 80 Mbps.", 80.0),
        agent("busy", "BUSY-OPERATOR needs 40 Mbps.", 40.0),
        agent("calm", "Calm operator, 30 Mbps.", 30.0),
    ];
    let neg = NegotiationConfig {
        max_rounds: 2,
        pressure: PressureMode::Soft,
        round_deadline_ms: 2_000,
        ..Default::default()
    };
    // Two rounds, each bounded by the slow agent's two timed-out attempts (2 x 2 x 150 ms);
    // the deadline only turns a hang into a failure.
    let out = tokio::time::timeout(Duration::from_secs(60), negotiate(&neg, &agents, &backend))
        .await
        .expect("the negotiation ends although one agent hangs")
        .unwrap();
    assert_eq!(out.rounds, 2);
    for record in &out.history[1..] {
        let slow = &record.turns[0];
        assert!(slow.substituted, "{slow:?}");
        assert!(
            slow.failures.iter().any(|f| f.contains("timed out")),
            "{:?}",
            slow.failures
        );
        assert_eq!(record.intents[0].value_mbps, slow.advice_mbps);
        // The 429 was retried inside the backend: the busy agent answered itself.
        assert!(!record.turns[1].substituted, "{:?}", record.turns[1]);
        assert_eq!(record.intents[1].value_mbps, 50.0);
        assert_eq!(record.intents[2].value_mbps, 50.0);
    }
    let usage = out.llm_usage.unwrap();
    assert!(usage.retries >= 1, "{usage:?}");
    assert!(usage.failures >= 2, "{usage:?}");
}

/// llama-cpp-python 0.3.36's answer to `response_format: {"type": "json_schema", ...}`.
const LLAMA_CPP_PYTHON_REFUSAL: &str = r#"{"error":{"message":"1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}","type":"internal_server_error","param":null,"code":null}}"#;

/// The `response_format.type` of a recorded request, `None` without one.
fn response_format_type(request: &Value) -> Option<String> {
    request
        .get("response_format")
        .map(|rf| rf["type"].as_str().unwrap_or("?").to_owned())
}

/// A server that refuses the `response_format` types in `refused` as llama-cpp-python does
/// (HTTP 500 naming `response_format`) and answers everything else.
async fn refusing(refused: &'static [&'static str]) -> (SocketAddr, Arc<Mock>) {
    serve(Vec::new(), move |request| {
        match response_format_type(request) {
            Some(t) if refused.contains(&t.as_str()) => {
                Behaviour::raw(500, LLAMA_CPP_PYTHON_REFUSAL)
            }
            _ => Behaviour::answer_with_usage(ANSWER, 10, 5),
        }
    })
    .await
}

fn prose_prompt() -> Prompt {
    Prompt {
        format: AnswerFormat::Prose {
            grammar: "root ::= [a-z ]+".into(),
            max_tokens: 64,
        },
        ..prompt("You are MAESTRO.", "Write to the agent.")
    }
}

fn judge_prompt() -> Prompt {
    Prompt {
        format: AnswerFormat::Json {
            name: "arbitral_verdict".into(),
            schema: json!({"type": "object", "properties": {"class": {"type": "string"}},
                           "required": ["class"], "additionalProperties": false}),
            grammar: "root ::= \"{}\"".into(),
        },
        ..prompt("You judge.", "The message.")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_prompts_carry_their_json_schema_and_prose_none() {
    let (addr, mock) = serve(Vec::new(), |_| Behaviour::answer(ANSWER)).await;
    let backend = OpenAiBackend::new(config(addr)).unwrap();
    backend.complete(&prompt("s", "u")).await.unwrap();
    backend.complete(&prose_prompt()).await.unwrap();
    backend.complete(&judge_prompt()).await.unwrap();
    let text = Prompt {
        format: AnswerFormat::Text,
        ..prompt("s", "u")
    };
    backend.complete(&text).await.unwrap();

    let seen = mock.recorded();
    assert_eq!(seen.len(), 4);
    let intent = &seen[0].body["response_format"];
    assert_eq!(intent["type"], "json_schema");
    assert_eq!(intent["json_schema"]["name"], "intent");
    assert_eq!(intent["json_schema"]["strict"], true);
    assert_eq!(
        intent["json_schema"]["schema"],
        AnswerFormat::intent_schema()
    );
    assert!(
        seen[1].body.get("response_format").is_none(),
        "{}",
        seen[1].body
    );
    let judge = &seen[2].body["response_format"];
    assert_eq!(judge["json_schema"]["name"], "arbitral_verdict");
    assert_eq!(judge["json_schema"]["schema"]["required"], json!(["class"]));
    assert!(
        seen[3].body.get("response_format").is_none(),
        "{}",
        seen[3].body
    );
    assert_eq!(backend.wire_format(), WireFormat::JsonSchema);
    assert_eq!(backend.usage().structured_downgrades, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_json_schema_steps_down_to_json_object_once_for_good() {
    let (addr, mock) = refusing(&["json_schema"]).await;
    let backend = OpenAiBackend::new(config(addr)).unwrap();

    assert_eq!(backend.complete(&prompt("s", "u")).await.unwrap(), ANSWER);
    let seen = mock.recorded();
    let types: Vec<_> = seen.iter().map(|r| response_format_type(&r.body)).collect();
    assert_eq!(
        types,
        [
            Some("json_schema".to_owned()),
            Some("json_object".to_owned())
        ],
        "one refused request, then the downgrade; no retry of the refused form"
    );
    assert_eq!(
        seen[1].body["response_format"]["schema"],
        AnswerFormat::intent_schema()
    );
    assert_eq!(backend.wire_format(), WireFormat::JsonObject);
    let usage = backend.usage();
    assert_eq!(
        (
            usage.requests,
            usage.retries,
            usage.failures,
            usage.structured_downgrades
        ),
        (2, 0, 0, 1),
        "{usage:?}"
    );
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (10, 5));

    // Later prompts, a whole concurrent round of them, go straight to json_object.
    let round: Vec<Prompt> = (0..4).map(|i| prompt("s", &format!("agent {i}"))).collect();
    let answers = futures::future::join_all(round.iter().map(|p| backend.complete(p))).await;
    assert!(
        answers.iter().all(|a| matches!(a.as_deref(), Ok(ANSWER))),
        "{answers:?}"
    );
    backend.complete(&judge_prompt()).await.unwrap();
    backend.complete(&prose_prompt()).await.unwrap();
    let later: Vec<_> = mock.recorded()[2..]
        .iter()
        .map(|r| response_format_type(&r.body))
        .collect();
    let object = Some("json_object".to_owned());
    assert_eq!(
        later,
        [
            object.clone(),
            object.clone(),
            object.clone(),
            object.clone(),
            object,
            None
        ]
    );
    let usage = backend.usage();
    assert_eq!(
        (usage.requests, usage.structured_downgrades),
        (8, 1),
        "{usage:?}"
    );
    let recorded = LanguageModel::usage(&backend).unwrap();
    assert_eq!(recorded.structured_downgrades, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_round_of_concurrent_prompts_costs_one_refusal_per_step() {
    let (addr, mock) = refusing(&["json_schema", "json_object"]).await;
    let backend = OpenAiBackend::new(config(addr)).unwrap();
    let round: Vec<Prompt> = (0..6).map(|i| prompt("s", &format!("agent {i}"))).collect();
    let answers = futures::future::join_all(round.iter().map(|p| backend.complete(p))).await;
    assert!(
        answers.iter().all(|a| matches!(a.as_deref(), Ok(ANSWER))),
        "{answers:?}"
    );
    let types: Vec<_> = mock
        .recorded()
        .iter()
        .map(|r| response_format_type(&r.body))
        .collect();
    assert_eq!(types.len(), 8, "6 answers + 2 refusals: {types:?}");
    assert_eq!(types[0].as_deref(), Some("json_schema"), "{types:?}");
    assert_eq!(types[1].as_deref(), Some("json_object"), "{types:?}");
    assert!(types[2..].iter().all(Option::is_none), "{types:?}");
    assert_eq!(backend.wire_format(), WireFormat::None);
    let usage = backend.usage();
    assert_eq!(
        (
            usage.requests,
            usage.retries,
            usage.failures,
            usage.structured_downgrades
        ),
        (8, 0, 0, 2),
        "{usage:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_form_is_not_stepped_down_and_off_sends_none() {
    let (addr, mock) = refusing(&["json_schema"]).await;
    let backend = OpenAiBackend::new(OpenAiConfig {
        structured_output: StructuredOutput::JsonSchema,
        ..config(addr)
    })
    .unwrap();
    let why = reason(backend.complete(&prompt("s", "u")).await.unwrap_err());
    assert!(why.contains("refuses response_format json_schema"), "{why}");
    assert!(why.contains("MAESTRO_LLM_STRUCTURED"), "{why}");
    assert_eq!(mock.calls(), 1, "a capability refusal is not retried");
    let usage = backend.usage();
    assert_eq!(
        (usage.failures, usage.retries, usage.structured_downgrades),
        (1, 0, 0)
    );

    let (addr, mock) = refusing(&["json_schema"]).await;
    let backend = OpenAiBackend::new(OpenAiConfig {
        structured_output: StructuredOutput::JsonObject,
        ..config(addr)
    })
    .unwrap();
    backend.complete(&prompt("s", "u")).await.unwrap();
    assert_eq!(
        response_format_type(&mock.recorded()[0].body).as_deref(),
        Some("json_object")
    );

    let (addr, mock) = refusing(&["json_schema", "json_object"]).await;
    let backend = OpenAiBackend::new(OpenAiConfig {
        structured_output: StructuredOutput::Off,
        ..config(addr)
    })
    .unwrap();
    backend.complete(&prompt("s", "u")).await.unwrap();
    backend.complete(&judge_prompt()).await.unwrap();
    assert!(mock
        .recorded()
        .iter()
        .all(|r| response_format_type(&r.body).is_none()));
    assert_eq!(mock.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_500_on_a_structured_request_is_a_fault_not_a_refusal() {
    // A 500 that does not name response_format is retried in the same form, as before.
    let (addr, mock) = serve(vec![Behaviour::raw(500, "boom")], |_| {
        Behaviour::answer(ANSWER)
    })
    .await;
    let backend = OpenAiBackend::new(config(addr)).unwrap();
    assert_eq!(backend.complete(&prompt("s", "u")).await.unwrap(), ANSWER);
    let types: Vec<_> = mock
        .recorded()
        .iter()
        .map(|r| response_format_type(&r.body))
        .collect();
    assert_eq!(
        types,
        [
            Some("json_schema".to_owned()),
            Some("json_schema".to_owned())
        ]
    );
    let usage = backend.usage();
    assert_eq!(
        (usage.retries, usage.structured_downgrades),
        (1, 0),
        "{usage:?}"
    );
    assert_eq!(backend.wire_format(), WireFormat::JsonSchema);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_negotiation_outcome_records_the_step_down() {
    let (addr, mock) = refusing(&["json_schema"]).await;
    let backend = OpenAiBackend::new(config(addr)).unwrap();
    let agents = vec![
        agent("video", "Video streaming.", 40.0),
        agent("iot", "IoT telemetry.", 60.0),
    ];
    let cfg = NegotiationConfig {
        max_rounds: 2,
        pressure: PressureMode::Soft,
        ..Default::default()
    };
    let out = negotiate(&cfg, &agents, &backend).await.unwrap();
    let usage = out.llm_usage.expect("usage recorded");
    assert_eq!(usage.structured_downgrades, 1, "{usage:?}");
    assert_eq!((usage.retries, usage.failures), (0, 0), "{usage:?}");
    assert!(
        usage.prompt_tokens > 0 && usage.completion_tokens > 0,
        "{usage:?}"
    );
    let refused = mock
        .recorded()
        .iter()
        .filter(|r| response_format_type(&r.body).as_deref() == Some("json_schema"))
        .count();
    assert_eq!(refused, 1, "one refused request for the whole negotiation");
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["llm_usage"]["structured_downgrades"], 1);
}
