//! Line reading with a bound: a line longer than the limit is reported and skipped without
//! being held in memory, so `classify < /dev/zero` is an error naming line 1, not an allocation
//! until the process aborts.

use std::io::BufRead;

/// The longest line storylens reads (1 MiB): far beyond any backlog item.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One line as read.
#[derive(Debug)]
pub enum Line {
    /// The line's bytes, without the `\n` (a trailing `\r` is kept for the caller).
    Bytes(Vec<u8>),
    /// The line had more than the limit's bytes; they were skipped.
    TooLong,
}

/// Lines of `reader`, numbered from 1, each at most `limit` bytes.
pub struct BoundedLines<R> {
    reader: R,
    limit: usize,
    line_no: usize,
    done: bool,
}

impl<R: BufRead> BoundedLines<R> {
    /// Lines of `reader` of at most `limit` bytes.
    pub fn new(reader: R, limit: usize) -> Self {
        Self {
            reader,
            limit,
            line_no: 0,
            done: false,
        }
    }
}

impl<R: BufRead> Iterator for BoundedLines<R> {
    type Item = (usize, std::io::Result<Line>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut buf = Vec::new();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    self.line_no += 1;
                    return Some((self.line_no, Err(e)));
                }
            };
            if chunk.is_empty() {
                self.done = true;
                break;
            }
            any = true;
            let (take, end) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if buf.len() + take > self.limit {
                    too_long = true;
                    buf = Vec::new();
                } else {
                    buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.reader.consume(take + usize::from(end));
            if end {
                break;
            }
        }
        if !any {
            return None;
        }
        self.line_no += 1;
        Some((
            self.line_no,
            Ok(if too_long {
                Line::TooLong
            } else {
                Line::Bytes(buf)
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_skipped_and_numbering_continues() {
        let mut data = b"first\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 100));
        data.extend(b"\nthird\nlast");
        let lines: Vec<_> = BoundedLines::new(&data[..], 10)
            .map(|(n, l)| (n, l.unwrap()))
            .collect();
        assert_eq!(lines.len(), 4);
        assert!(matches!(&lines[0].1, Line::Bytes(b) if b == b"first"));
        assert!(matches!(lines[1].1, Line::TooLong));
        assert!(matches!(&lines[2], (3, Line::Bytes(b)) if b == b"third"));
        assert!(matches!(&lines[3], (4, Line::Bytes(b)) if b == b"last"));
    }

    #[test]
    fn an_endless_line_stays_bounded() {
        // 8 MiB with no newline, read with a 1 KiB limit: one TooLong, no 8 MiB buffer.
        let data = vec![0u8; 8 << 20];
        let lines: Vec<_> = BoundedLines::new(&data[..], 1024).collect();
        assert_eq!(lines.len(), 1);
        assert!(matches!(lines[0].1, Ok(Line::TooLong)));
    }
}
