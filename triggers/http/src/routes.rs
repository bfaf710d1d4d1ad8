//! Spin's routing: exact segments beat `:param` segments, which beat a trailing
//! `/...` wildcard, compared segment by segment; the last duplicate route wins.

/// One piece of a route pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Exact(String),
    Param(String),
}

/// A parsed route pattern.
#[derive(Clone, Debug)]
pub struct Route {
    /// The route as written in the manifest.
    pub raw: String,
    /// The route joined to the base `/`, trailing `/` removed (`""` for `/`).
    pub based: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

impl Route {
    /// Parses a manifest route.
    pub fn parse(raw: &str) -> Self {
        let mut based = format!("/{}", raw.trim_start_matches('/'));
        if based.ends_with('/') {
            based.pop();
        }
        let (prefix, wildcard) = match based.strip_suffix("/...").or_else(|| based.strip_suffix("/*")) {
            Some(p) => (p.to_string(), true),
            None => (based.clone(), false),
        };
        let segments = prefix
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s.strip_prefix(':') {
                Some(name) => Segment::Param(name.to_string()),
                None => Segment::Exact(s.to_string()),
            })
            .collect();
        Self { raw: raw.to_string(), based, segments, wildcard }
    }

    /// Whether the route ends in a wildcard.
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// The based route without its trailing `/...` (`spin-component-route`).
    pub fn component_route(&self) -> &str {
        self.based.strip_suffix("/...").or_else(|| self.based.strip_suffix("/*")).unwrap_or(&self.based)
    }

    /// Precedence key: per segment 0 = exact, 1 = param, then 2 for the wildcard.
    /// Lower sorts first; a route that ends earlier beats one that continues.
    pub fn rank(&self) -> Vec<u8> {
        let mut r: Vec<u8> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Exact(_) => 0,
                Segment::Param(_) => 1,
            })
            .collect();
        if self.wildcard {
            r.push(2);
        }
        r
    }

    /// Matches a request path (no query), returning the captures.
    pub fn matches(&self, path: &str) -> Option<RouteMatch> {
        let mut rest = path;
        let mut params = Vec::new();
        for seg in &self.segments {
            let after = rest.strip_prefix('/')?;
            let (head, tail) = after.split_at(after.find('/').unwrap_or(after.len()));
            match seg {
                _ if head.is_empty() => return None,
                Segment::Exact(s) if s == head => {}
                Segment::Exact(_) => return None,
                Segment::Param(name) => params.push((name.clone(), head.to_string())),
            }
            rest = tail;
        }
        // `rest` is now "" (path ended), "/" (trailing slash) or "/more/parts".
        if self.wildcard {
            Some(RouteMatch { params, path_info: rest.to_string() })
        } else if rest.is_empty() || rest == "/" {
            Some(RouteMatch { params, path_info: String::new() })
        } else {
            None
        }
    }
}

/// The captures of a matched route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMatch {
    /// `:name` captures in route order.
    pub params: Vec<(String, String)>,
    /// The wildcard remainder (`spin-path-info`).
    pub path_info: String,
}

/// A route table mapping paths to handler indices.
#[derive(Debug, Default)]
pub struct Router<T> {
    routes: Vec<(Route, T)>,
}

impl<T: Clone> Router<T> {
    /// Builds a router; for duplicate raw routes the last entry wins and the
    /// shadowed ones are returned as `(shadowed, winner)` pairs for a warning.
    pub fn build(entries: impl IntoIterator<Item = (Route, T)>) -> (Self, Vec<(T, T, String)>) {
        let mut routes: Vec<(Route, T)> = Vec::new();
        let mut duplicates = Vec::new();
        for (route, target) in entries {
            if let Some(pos) = routes.iter().position(|(r, _)| r.based == route.based) {
                let (old_route, old) = routes.remove(pos);
                duplicates.push((old, target.clone(), old_route.raw));
            }
            routes.push((route, target));
        }
        (Self { routes }, duplicates)
    }

    /// The routes in table order.
    pub fn routes(&self) -> impl Iterator<Item = &(Route, T)> {
        self.routes.iter()
    }

    /// Finds the best route for `path`.
    pub fn find(&self, path: &str) -> Option<(&Route, &T, RouteMatch)> {
        self.routes
            .iter()
            .filter_map(|(r, t)| r.matches(path).map(|m| (r, t, m)))
            .min_by(|a, b| a.0.rank().cmp(&b.0.rank()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[&str]) -> Router<usize> {
        Router::build(routes.iter().enumerate().map(|(i, r)| (Route::parse(r), i))).0
    }

    type Found<'a> = (&'a str, String, Vec<(String, String)>);

    fn find<'a>(r: &'a Router<usize>, path: &str) -> Option<Found<'a>> {
        r.find(path).map(|(route, _, m)| (route.raw.as_str(), m.path_info, m.params))
    }

    #[test]
    fn precedence_exact_param_wildcard() {
        let r = router(&["/...", "/users/:id", "/users/...", "/static/...", "/exact", "/static/deep/..."]);
        assert_eq!(find(&r, "/exact").unwrap().0, "/exact");
        assert_eq!(find(&r, "/users/42").unwrap().0, "/users/:id");
        assert_eq!(find(&r, "/users/42").unwrap().2, vec![("id".to_string(), "42".to_string())]);
        assert_eq!(find(&r, "/users/42/x").unwrap().0, "/users/...");
        assert_eq!(find(&r, "/static/deep/x").unwrap().0, "/static/deep/...");
        assert_eq!(find(&r, "/static/a").unwrap().0, "/static/...");
        assert_eq!(find(&r, "/other").unwrap().0, "/...");
        assert_eq!(find(&r, "/").unwrap().0, "/...");
    }

    #[test]
    fn path_info_follows_spin() {
        let r = router(&["/static/..."]);
        assert_eq!(find(&r, "/static").unwrap().1, "");
        assert_eq!(find(&r, "/static/").unwrap().1, "/");
        assert_eq!(find(&r, "/static/a/b").unwrap().1, "/a/b");
        assert_eq!(find(&r, "/static/a/").unwrap().1, "/a/");
        assert!(find(&r, "/staticx").is_none());
        let all = router(&["/..."]);
        assert_eq!(find(&all, "/").unwrap().1, "/");
        assert_eq!(find(&all, "/a/b").unwrap().1, "/a/b");
    }

    #[test]
    fn root_and_exact_routes() {
        let r = router(&["/", "/exact"]);
        assert_eq!(find(&r, "/").unwrap().0, "/");
        assert!(find(&r, "/nope").is_none());
        assert!(find(&r, "/exact/more").is_none());
        let root = Route::parse("/");
        assert_eq!(root.based, "");
        assert_eq!(root.component_route(), "");
        let all = Route::parse("/...");
        assert_eq!(all.based, "/...");
        assert_eq!(all.component_route(), "");
        assert_eq!(Route::parse("/static/...").component_route(), "/static");
    }

    #[test]
    fn last_duplicate_wins() {
        let (r, dups) = Router::build([(Route::parse("/a"), 1), (Route::parse("/a/"), 2)]);
        assert_eq!(r.find("/a").unwrap().1, &2);
        assert_eq!(dups.len(), 1);
    }
}
