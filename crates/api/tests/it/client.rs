//! A small HTTP/1.1 client over the Unix socket (hyper's, one connection per request) and a
//! Server-Sent Events reader.

use std::path::{Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::UnixStream;

/// How long one read of the event stream may wait.
const EVENT_PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Client {
    path: PathBuf,
}

/// A whole response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts an error response: the status, the JSON shape and the code; returns the body.
    pub fn expect_error(&self, status: u16, code: &str) -> Value {
        let json = self.json();
        assert_eq!(self.status, status, "{json}");
        assert_eq!(json["code"], code, "{json}");
        assert!(
            json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{json}"
        );
        assert_eq!(
            self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "errors are JSON"
        );
        json
    }

    /// Asserts the status and returns the JSON body.
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }
}

impl Client {
    pub fn new(path: &Path) -> Self {
        Client {
            path: path.to_path_buf(),
        }
    }

    /// A connection, accepted into the server's backlog once this returns.
    pub async fn connect(&self) -> Connection {
        let stream = UnixStream::connect(&self.path).await.expect("connect");
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(connection);
        Connection {
            sender,
            content_type: "application/json".to_owned(),
        }
    }

    async fn send(&self, method: Method, uri: &str, body: Vec<u8>) -> hyper::Response<Incoming> {
        self.connect().await.send(method, uri, body).await
    }

    pub async fn request(&self, method: Method, uri: &str, body: Vec<u8>) -> Reply {
        self.connect().await.request(method, uri, body).await
    }

    /// A request with another `Content-Type`, e.g. the form type `curl -d` sends.
    pub async fn request_typed(&self, uri: &str, body: &str, content_type: &str) -> Reply {
        let mut connection = self.connect().await;
        connection.content_type = content_type.to_owned();
        connection
            .request(Method::POST, uri, body.as_bytes().to_vec())
            .await
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.request(Method::GET, uri, Vec::new()).await
    }

    pub async fn post(&self, uri: &str, body: &Value) -> Reply {
        self.request(Method::POST, uri, body.to_string().into_bytes())
            .await
    }

    pub async fn put(&self, uri: &str, body: &Value) -> Reply {
        self.request(Method::PUT, uri, body.to_string().into_bytes())
            .await
    }

    pub async fn delete(&self, uri: &str) -> Reply {
        self.request(Method::DELETE, uri, Vec::new()).await
    }

    /// Opens an event stream and reads up to its `: subscribed` comment, so every event from
    /// now on will be seen.
    pub async fn events(&self, uri: &str) -> EventStream {
        let response = self.send(Method::GET, uri, Vec::new()).await;
        assert_eq!(response.status(), 200, "{uri}");
        assert_eq!(
            response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        let mut stream = EventStream {
            body: response.into_body(),
            buffer: String::new(),
        };
        let first = stream.next_block().await.expect("the stream starts");
        assert_eq!(first, ": subscribed", "the first thing said");
        stream
    }
}

/// One connection to the server.
#[derive(Debug)]
pub struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    content_type: String,
}

impl Connection {
    async fn send(
        &mut self,
        method: Method,
        uri: &str,
        body: Vec<u8>,
    ) -> hyper::Response<Incoming> {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, "localhost")
            .header(CONTENT_TYPE, &self.content_type)
            .body(Full::new(Bytes::from(body)))
            .expect("a request");
        self.sender.send_request(request).await.expect("a response")
    }

    pub async fn request(mut self, method: Method, uri: &str, body: Vec<u8>) -> Reply {
        let (parts, body) = self.send(method, uri, body).await.into_parts();
        let body = body.collect().await.expect("the body").to_bytes();
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }
}

/// One Server-Sent Event: its name and its data parsed as JSON.
#[derive(Debug, Clone)]
pub struct Sse {
    pub name: String,
    pub data: Value,
}

#[derive(Debug)]
pub struct EventStream {
    body: Incoming,
    buffer: String,
}

impl EventStream {
    /// The next block (the text up to a blank line), or `None` when the stream ends.
    async fn next_block(&mut self) -> Option<String> {
        loop {
            if let Some(at) = self.buffer.find("\n\n") {
                let block = self.buffer[..at].to_owned();
                self.buffer.drain(..at + 2);
                return Some(block);
            }
            let frame = tokio::time::timeout(EVENT_PATIENCE, self.body.frame())
                .await
                .expect("the event stream said nothing in time");
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer
                            .push_str(std::str::from_utf8(&data).expect("UTF-8"));
                    }
                }
                Some(Err(e)) => panic!("the event stream failed: {e}"),
                None => return None,
            }
        }
    }

    /// The next event, skipping comments (keep-alives); `None` when the stream ends.
    pub async fn next(&mut self) -> Option<Sse> {
        loop {
            let block = self.next_block().await?;
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = Some(value.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                }
            }
            if let Some(name) = name {
                let data = serde_json::from_str(&data).expect("event data is JSON");
                return Some(Sse { name, data });
            }
        }
    }

    /// Reads events until `stop` accepts one; returns them all, the last included.
    pub async fn until(&mut self, mut stop: impl FnMut(&Sse) -> bool) -> Vec<Sse> {
        let mut seen = Vec::new();
        loop {
            let event = self.next().await.expect("the stream goes on");
            let done = stop(&event);
            seen.push(event);
            if done {
                return seen;
            }
        }
    }
}
