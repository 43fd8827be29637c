//! What can stop a benchmark run, from a bad flag to failed requests.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid options: {0}")]
    Usage(String),
    #[error("server: {0}")]
    Server(String),
    #[error("preparing the data: {0}")]
    Setup(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("the run failed:\n  {}", .0.join("\n  "))]
    Failed(Vec<String>),
}
