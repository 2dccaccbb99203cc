//! Pagination in one place: the limit rule, the opaque cursor (a log position, newest first)
//! and the page every list answers with.

use aggregates::ValidationError;
use base64::Engine;

/// Rows per page when the client does not say.
pub const DEFAULT_LIMIT: i64 = 20;
/// Most rows per page.
pub const MAX_LIMIT: i64 = 100;

/// A validated page request: how many rows, and strictly before which log position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub before_position: Option<i64>,
}

impl PageRequest {
    /// Checks `limit` (1 to 100, default 20) and decodes `cursor`.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ValidationError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ValidationError::new(
                "limit",
                format!("must be from 1 to {MAX_LIMIT}"),
            ));
        }
        Ok(Self {
            limit,
            before_position: cursor.map(decode_cursor).transpose()?,
        })
    }

    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }

    /// The page made of `rows` (fetched with [`fetch_limit`](Self::fetch_limit), newest first);
    /// `position` gives each row's log position for the next cursor.
    pub fn page<T>(&self, mut rows: Vec<T>, position: impl Fn(&T) -> i64) -> Page<T> {
        let next_cursor = if rows.len() as i64 > self.limit {
            rows.truncate(self.limit as usize);
            rows.last().map(|last| encode_cursor(position(last)))
        } else {
            None
        };
        Page {
            data: rows,
            next_cursor,
        }
    }
}

/// A page counted as its rows stream past (fetched with [`PageRequest::fetch_limit`], newest
/// first): which rows it shows, and the cursor after its last one if another row followed.
#[derive(Debug, Clone, Copy)]
pub struct PageRows {
    limit: i64,
    shown: i64,
    last_shown: Option<i64>,
    more: bool,
}

impl PageRows {
    pub fn new(request: PageRequest) -> Self {
        Self {
            limit: request.limit,
            shown: 0,
            last_shown: None,
            more: false,
        }
    }

    /// Whether the next row, at log `position`, is on the page (the one after it is not).
    pub fn shows(&mut self, position: i64) -> bool {
        if self.shown < self.limit {
            self.shown += 1;
            self.last_shown = Some(position);
            true
        } else {
            self.more = true;
            false
        }
    }

    /// The cursor of the next page, if a row followed the page's last.
    pub fn next_cursor(&self) -> Option<String> {
        self.last_shown.filter(|_| self.more).map(encode_cursor)
    }
}

/// One page of a list, newest first, and the cursor of the next page if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The same page with each row converted.
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(convert).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// An opaque page cursor for a log position.
pub fn encode_cursor(position: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("p:{position}"))
}

/// The log position of a cursor [`encode_cursor`] made.
pub fn decode_cursor(cursor: &str) -> Result<i64, ValidationError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("p:")?.parse().ok())
        .ok_or_else(|| ValidationError::new("cursor", "is not a cursor this API returned"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        assert_eq!(decode_cursor("garbage!").unwrap_err().field, "cursor");
    }

    #[test]
    fn a_page_keeps_the_limit_and_points_after_its_last_row() {
        let request = PageRequest::parse(Some(2), None).unwrap();
        let page = request.page(vec![30, 20, 10], |position| *position);
        assert_eq!(page.data, vec![30, 20]);
        assert_eq!(decode_cursor(&page.next_cursor.unwrap()).unwrap(), 20);
        let last = request.page(vec![5], |position| *position);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn rows_streaming_past_make_the_same_page_as_a_fetched_list() {
        let request = PageRequest::parse(Some(2), None).unwrap();
        let mut rows = PageRows::new(request);
        let shown: Vec<i64> = [30, 20, 10]
            .into_iter()
            .filter(|position| rows.shows(*position))
            .collect();
        assert_eq!(shown, vec![30, 20]);
        assert_eq!(decode_cursor(&rows.next_cursor().unwrap()).unwrap(), 20);
        let mut last = PageRows::new(request);
        assert!(last.shows(5));
        assert_eq!(last.next_cursor(), None);
    }

    #[test]
    fn limits_outside_one_to_a_hundred_are_refused() {
        assert_eq!(
            PageRequest::parse(Some(0), None).unwrap_err().field,
            "limit"
        );
        assert_eq!(
            PageRequest::parse(Some(101), None).unwrap_err().field,
            "limit"
        );
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 20);
    }
}
