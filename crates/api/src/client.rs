//! The client side of the local API, shared by Tasktray's own clients (`taskctl`): one HTTP/1.1
//! request per connection over the Unix socket, JSON in and out, the server's `{code, message}`
//! errors as [`ClientError::Api`], a clear [`ClientError::NotRunning`] when nothing answers, and
//! the event stream read as [`ServerEvent`]s.

use std::path::{Path, PathBuf};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::UnixStream;

/// What can go wrong talking to the app.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "Tasktray is not running (nothing answers on {}): start the app, then try again",
        path.display()
    )]
    NotRunning {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The server refused the request; `message` says why.
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error("talking to Tasktray on {}: {what}", path.display())]
    Transport { path: PathBuf, what: String },
}

/// A client of the API on one socket.
#[derive(Debug, Clone)]
pub struct Client {
    path: PathBuf,
}

impl Client {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Client { path: path.into() }
    }

    /// A client of the user's app ([`crate::default_socket_path`]).
    pub fn for_user() -> Self {
        Client::new(crate::default_socket_path())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub async fn get(&self, uri: &str) -> Result<Value, ClientError> {
        self.request(Method::GET, uri, None).await
    }

    pub async fn post(&self, uri: &str, body: &Value) -> Result<Value, ClientError> {
        self.request(Method::POST, uri, Some(body)).await
    }

    /// Opens an event stream (`/v1/events...`) and returns once the server has subscribed it,
    /// so no event from then on is missed.
    pub async fn events(&self, uri: &str) -> Result<EventStream, ClientError> {
        let response = self.send(Method::GET, uri, None).await?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(api_error(status, &self.body_of(response).await?));
        }
        let mut stream = EventStream {
            body: response.into_body(),
            buffer: Vec::new(),
            path: self.path.clone(),
            subscribed: false,
        };
        while !stream.subscribed {
            if stream.fill().await?.is_none() {
                return Err(self.transport("the event stream ended at once".into()));
            }
            stream.take_comments();
        }
        Ok(stream)
    }

    /// The whole body of a response.
    async fn body_of(&self, response: hyper::Response<Incoming>) -> Result<Bytes, ClientError> {
        Ok(response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.transport(e.to_string()))?
            .to_bytes())
    }

    /// Sends one request and reads the whole answer: its JSON body (`null` when empty), or
    /// the error the server gave.
    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let response = self.send(method, uri, body).await?;
        let status = response.status().as_u16();
        let body = self.body_of(response).await?;
        if !(200..300).contains(&status) {
            return Err(api_error(status, &body));
        }
        if body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&body)
            .map_err(|e| self.transport(format!("the answer is not JSON: {e}")))
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<hyper::Response<Incoming>, ClientError> {
        let stream =
            UnixStream::connect(&self.path)
                .await
                .map_err(|source| ClientError::NotRunning {
                    path: self.path.clone(),
                    source,
                })?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| self.transport(e.to_string()))?;
        // Drives the connection until the answer is read; ends with it.
        tokio::spawn(connection);
        let bytes = body.map(Value::to_string).unwrap_or_default().into_bytes();
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, "localhost")
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| self.transport(e.to_string()))?;
        sender
            .send_request(request)
            .await
            .map_err(|e| self.transport(e.to_string()))
    }

    fn transport(&self, what: String) -> ClientError {
        ClientError::Transport {
            path: self.path.clone(),
            what,
        }
    }
}

/// The server's `{code, message}` error.
fn api_error(status: u16, body: &[u8]) -> ClientError {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
    ClientError::Api {
        status,
        code: text("code"),
        message: text("message"),
    }
}

/// One event of the stream: its name (the event's `type`, or `resync`) and its JSON data.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
    pub name: String,
    pub data: Value,
}

/// An open event stream.
#[derive(Debug)]
pub struct EventStream {
    body: Incoming,
    buffer: Vec<u8>,
    path: PathBuf,
    subscribed: bool,
}

impl EventStream {
    /// The next event; `None` when the server ended the stream. Cancel-safe: a frame is
    /// either read into the buffer whole or not at all.
    pub async fn next(&mut self) -> Option<Result<ServerEvent, ClientError>> {
        loop {
            if let Some(event) = self.take_event() {
                return Some(Ok(event));
            }
            match self.fill().await {
                Ok(Some(())) => {}
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Reads one more frame; `None` at the end of the stream.
    async fn fill(&mut self) -> Result<Option<()>, ClientError> {
        loop {
            let Some(frame) = self.body.frame().await else {
                return Ok(None);
            };
            let frame = frame.map_err(|e| ClientError::Transport {
                path: self.path.clone(),
                what: e.to_string(),
            })?;
            if let Ok(data) = frame.into_data() {
                self.buffer.extend_from_slice(&data);
                return Ok(Some(()));
            }
        }
    }

    /// The next whole block (`...\n\n`) of the buffer, if there is one.
    fn take_block(&mut self) -> Option<String> {
        let end = self.buffer.windows(2).position(|w| w == b"\n\n")?;
        let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
        Some(String::from_utf8_lossy(&block[..end]).into_owned())
    }

    /// Drops leading comment blocks (`: subscribed`, keep-alives), noting the subscription.
    fn take_comments(&mut self) {
        while self.buffer.starts_with(b":") {
            match self.take_block() {
                Some(block) => self.subscribed |= block.trim() == ": subscribed",
                None => return,
            }
        }
    }

    fn take_event(&mut self) -> Option<ServerEvent> {
        loop {
            let block = self.take_block()?;
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(value.strip_prefix(' ').unwrap_or(value));
                }
            }
            if data.is_empty() {
                // A comment or keep-alive.
                continue;
            }
            let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
            return Some(ServerEvent { name, data });
        }
    }
}
