//! Races on one QR code: however many requests arrive at once, it is scanned
//! once, verified once, and takes no more than five wrong PINs.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::flow::{Flow, wrong_pin};
use crate::harness::assert_problem;

const CLIENTS: usize = 20;

/// POSTs every body to `path` at once; returns how many answers had each
/// status, code and `attempts_remaining`, written like `401 invalid_pin 3`.
async fn tally(flow: &Flow, path: &str, bodies: Vec<Value>) -> BTreeMap<String, usize> {
    let mut set = JoinSet::new();
    for body in bodies {
        let request = flow.app.client.post(flow.app.url(path)).json(&body);
        set.spawn(async move {
            let res = request.send().await.unwrap();
            let status = res.status().as_u16();
            let answer: Value = res.json().await.unwrap();
            let parts = [
                json!(status),
                answer["code"].clone(),
                answer["attempts_remaining"].clone(),
            ];
            let words: Vec<String> = parts
                .iter()
                .filter(|p| !p.is_null())
                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                .collect();
            words.join(" ")
        });
    }
    let mut counts = BTreeMap::new();
    for answer in set.join_all().await {
        *counts.entry(answer).or_insert(0) += 1;
    }
    counts
}

fn expected(answers: &[(&str, usize)]) -> BTreeMap<String, usize> {
    answers
        .iter()
        .map(|&(answer, n)| (answer.to_owned(), n))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_scans_of_one_qr_code_give_one_200_and_the_rest_409_qr_already_scanned() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    let body = json!({"qr_token": qr, "auth_key": flow.auth_key});
    let answers = tally(&flow, "/api/auth/qr/scan", vec![body; CLIENTS]).await;
    assert_eq!(
        answers,
        expected(&[("200", 1), ("409 qr_already_scanned", CLIENTS - 1)])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_verifies_with_the_right_pin_give_one_200_and_the_rest_409_qr_already_used() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    let body = flow.verify_body(&qr, &pin);
    let answers = tally(&flow, "/api/auth/pin/verify", vec![body; CLIENTS]).await;
    assert_eq!(
        answers,
        expected(&[("200", 1), ("409 qr_already_used", CLIENTS - 1)])
    );
    assert_eq!(flow.history("outcome=success").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_pins_give_five_401_invalid_pin_and_the_rest_429() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    let body = flow.verify_body(&qr, &wrong_pin(&pin));
    let answers = tally(&flow, "/api/auth/pin/verify", vec![body; CLIENTS]).await;
    assert_eq!(
        answers,
        expected(&[
            ("401 invalid_pin 4", 1),
            ("401 invalid_pin 3", 1),
            ("401 invalid_pin 2", 1),
            ("401 invalid_pin 1", 1),
            ("401 invalid_pin 0", 1),
            ("429 too_many_attempts", CLIENTS - 5),
        ])
    );
    let res = flow.verify_res(&qr, &pin).await;
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
}
