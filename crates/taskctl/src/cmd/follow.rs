//! `taskctl follow ID`: a running task of the app, live in this terminal, from any terminal.

use crate::cli::FollowArgs;

pub fn follow(args: FollowArgs) -> Result<i32, String> {
    let id = super::parse_id(&args.id)?;
    super::with_app(async |client| {
        super::remote::follow(client, id, args.output, args.approve).await
    })
}
