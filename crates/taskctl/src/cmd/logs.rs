//! `taskctl logs`.

use std::io::Write;

use crate::cli::LogsArgs;
use crate::render;

pub fn logs(args: LogsArgs) -> Result<i32, String> {
    let history = super::history()?;
    let id = super::parse_id(&args.id)?;
    let task = history.load(id).map_err(|e| e.to_string())?;
    let lines = match args.tail {
        Some(n) => history.read_log_tail(id, n).map_err(|e| e.to_string())?.0,
        None => history
            .read_log(id)
            .map_err(|e| e.to_string())?
            .lines()
            .map(str::to_owned)
            .collect(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in &lines {
        let shown = if args.raw {
            vec![line.clone()]
        } else {
            render::output_line(task.options.format, line)
        };
        for text in shown {
            if writeln!(out, "{text}").is_err() {
                // The reader went away (`| head`): that is not an error.
                return Ok(0);
            }
        }
    }
    let _ = out.flush();
    Ok(0)
}
