//! The client side of the local API, shared by Tasktray's own clients (`taskctl`): one HTTP/1.1
//! request per connection over the Unix socket, JSON in and out, the server's `{code, message}`
//! errors as [`ClientError::Api`], and a clear [`ClientError::NotRunning`] when nothing answers.

use std::path::{Path, PathBuf};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
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

    /// Sends one request and reads the whole answer: its JSON body (`null` when empty), or
    /// the error the server gave.
    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let stream =
            UnixStream::connect(&self.path)
                .await
                .map_err(|source| ClientError::NotRunning {
                    path: self.path.clone(),
                    source,
                })?;
        let transport = |what: String| ClientError::Transport {
            path: self.path.clone(),
            what,
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| transport(e.to_string()))?;
        // Drives the connection until the answer is read; ends with it.
        tokio::spawn(connection);
        let bytes = body.map(Value::to_string).unwrap_or_default().into_bytes();
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, "localhost")
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| transport(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| transport(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(e.to_string()))?
            .to_bytes();
        let value: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| transport(format!("the answer is not JSON: {e}")))?
        };
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
        Err(ClientError::Api {
            status,
            code: text("code"),
            message: text("message"),
        })
    }
}
