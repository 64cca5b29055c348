//! Pagers: one call after another until a paged list is exhausted, as a stream of its items.

#[cfg(feature = "openim")]
use futures_util::Stream;

#[cfg(feature = "openim")]
use crate::openim::{GetRoamMsg, GetRoamMsgRequest, HistoryMessage};
#[cfg(feature = "openim")]
use crate::{Client, Error, Transport};

#[cfg(feature = "openim")]
impl<T: Transport> Client<T> {
    /// Every message of a one-to-one conversation within `request`'s time range, newest first:
    /// `admin_getroammsg` called again with `MaxTime` = `LastMsgTime` and `LastMsgKey` of the
    /// previous answer until it says `Complete`. An error ends the stream after it is yielded.
    ///
    /// ```no_run
    /// # async fn f(client: tim_core::Client<impl tim_core::Transport>) -> Result<(), tim_core::Error> {
    /// use futures_util::StreamExt;
    /// use tim_core::openim::GetRoamMsgRequest;
    /// let mut messages = std::pin::pin!(client.roam_messages(GetRoamMsgRequest::new("alice", "bob", 100, 0, 4_102_444_800)));
    /// while let Some(message) = messages.next().await {
    ///     println!("{}", message?.msg_key);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn roam_messages(
        &self,
        request: GetRoamMsgRequest,
    ) -> impl Stream<Item = Result<HistoryMessage, Error>> + '_ {
        let state = (Some(request), Vec::<HistoryMessage>::new());
        futures_util::stream::unfold(state, move |(mut next, mut buffer)| async move {
            loop {
                if let Some(message) = buffer.pop() {
                    // Pages come oldest first; popping from the end yields newest first.
                    return Some((Ok(message), (next, buffer)));
                }
                let request = next.take()?;
                match self.call::<GetRoamMsg>(request.clone()).await {
                    Err(e) => return Some((Err(e), (None, Vec::new()))),
                    Ok(page) => {
                        let progressed = page.last_msg_key.is_some()
                            && page.last_msg_key != request.last_msg_key
                            && !page.msg_list.is_empty();
                        if page.complete == 0 && progressed {
                            let mut more = request;
                            if let Some(t) = page.last_msg_time {
                                more.max_time = t;
                            }
                            more.last_msg_key = page.last_msg_key.clone();
                            next = Some(more);
                        }
                        buffer = page.msg_list;
                    }
                }
            }
        })
    }
}
