//! Spin's routing: exact segments beat `:param` segments, which beat a trailing
//! `/...` wildcard, compared segment by segment; the last duplicate route wins.
//! Routes are ranked once when the table is built, so a request takes the first
//! route that matches.

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
    rank: Vec<u8>,
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
        let segments: Vec<Segment> = prefix
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s.strip_prefix(':') {
                Some(name) => Segment::Param(name.to_string()),
                None => Segment::Exact(s.to_string()),
            })
            .collect();
        // Per segment 0 = exact, 1 = param, then 2 for the wildcard.
        let mut rank: Vec<u8> = segments.iter().map(|s| u8::from(matches!(s, Segment::Param(_)))).collect();
        if wildcard {
            rank.push(2);
        }
        Self { raw: raw.to_string(), based, segments, wildcard, rank }
    }

    /// Whether the route ends in a wildcard.
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// The based route without its trailing `/...` (`spin-component-route`):
    /// Spin strips only that suffix, so route `/` stays `/` and `/...` becomes empty.
    pub(crate) fn component_route(&self) -> &str {
        match self.based.strip_suffix("/...").or_else(|| self.based.strip_suffix("/*")) {
            Some(prefix) => prefix,
            None if self.based.is_empty() => "/",
            None => &self.based,
        }
    }

    /// The names of the `:param` segments, in route order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(name) => Some(name.as_str()),
            Segment::Exact(_) => None,
        })
    }

    /// Precedence key: per segment 0 = exact, 1 = param, then 2 for the wildcard.
    /// Lower sorts first; a route that ends earlier beats one that continues.
    pub fn rank(&self) -> &[u8] {
        &self.rank
    }

    /// Matches a request path (no query), returning the captures.
    pub fn matches<'p>(&self, path: &'p str) -> Option<RouteMatch<'p>> {
        let mut rest = path;
        let mut params = Vec::new();
        for seg in &self.segments {
            let after = rest.strip_prefix('/')?;
            let (head, tail) = after.split_at(after.find('/').unwrap_or(after.len()));
            match seg {
                _ if head.is_empty() => return None,
                Segment::Exact(s) if s == head => {}
                Segment::Exact(_) => return None,
                Segment::Param(_) => params.push(head),
            }
            rest = tail;
        }
        // `rest` is now "" (path ended), "/" (trailing slash) or "/more/parts".
        if self.wildcard {
            Some(RouteMatch { params, path_info: rest })
        } else if rest.is_empty() || rest == "/" {
            Some(RouteMatch { params, path_info: "" })
        } else {
            None
        }
    }
}

/// The captures of a matched route, borrowed from the request path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMatch<'p> {
    /// The values of the `:name` segments, in route order (see [`Route::params`]).
    pub params: Vec<&'p str>,
    /// The wildcard remainder (`spin-path-info`).
    pub path_info: &'p str,
}

/// A route table mapping paths to targets, best rank first.
#[derive(Debug, Default)]
pub struct Router<T> {
    routes: Vec<(Route, T)>,
}

/// A route shadowed by a later duplicate: `(shadowed, winner, shadowed route as written)`.
pub(crate) type Duplicate<T> = (T, T, String);

impl<T: Clone> Router<T> {
    /// Builds a router; for duplicate routes the last entry wins and the shadowed
    /// ones are returned for a warning. Routes are then ranked, keeping manifest
    /// order among equals.
    pub fn build(entries: impl IntoIterator<Item = (Route, T)>) -> (Self, Vec<Duplicate<T>>) {
        let mut routes: Vec<(Route, T)> = Vec::new();
        let mut duplicates = Vec::new();
        for (route, target) in entries {
            if let Some(pos) = routes.iter().position(|(r, _)| r.based == route.based) {
                let (old_route, old) = routes.remove(pos);
                duplicates.push((old, target.clone(), old_route.raw));
            }
            routes.push((route, target));
        }
        routes.sort_by(|a, b| a.0.rank.cmp(&b.0.rank));
        (Self { routes }, duplicates)
    }
}

impl<T> Router<T> {
    /// The routes, best rank first.
    pub fn routes(&self) -> impl Iterator<Item = &(Route, T)> {
        self.routes.iter()
    }

    /// Finds the best route for `path`: the first in rank order that matches.
    pub fn find<'p>(&self, path: &'p str) -> Option<(&Route, &T, RouteMatch<'p>)> {
        self.routes.iter().find_map(|(r, t)| r.matches(path).map(|m| (r, t, m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[&str]) -> Router<usize> {
        Router::build(routes.iter().enumerate().map(|(i, r)| (Route::parse(r), i))).0
    }

    type Found<'a> = (&'a str, String, Vec<String>);

    fn find<'a>(r: &'a Router<usize>, path: &str) -> Option<Found<'a>> {
        r.find(path).map(|(route, _, m)| {
            (route.raw.as_str(), m.path_info.to_string(), m.params.iter().map(|p| p.to_string()).collect())
        })
    }

    #[test]
    fn precedence_exact_param_wildcard() {
        let r = router(&["/...", "/users/:id", "/users/...", "/static/...", "/exact", "/static/deep/..."]);
        assert_eq!(find(&r, "/exact").unwrap().0, "/exact");
        assert_eq!(find(&r, "/users/42").unwrap().0, "/users/:id");
        assert_eq!(find(&r, "/users/42").unwrap().2, vec!["42".to_string()]);
        assert_eq!(find(&r, "/users/42/x").unwrap().0, "/users/...");
        assert_eq!(find(&r, "/static/deep/x").unwrap().0, "/static/deep/...");
        assert_eq!(find(&r, "/static/a").unwrap().0, "/static/...");
        assert_eq!(find(&r, "/other").unwrap().0, "/...");
        assert_eq!(find(&r, "/").unwrap().0, "/...");
    }

    #[test]
    fn equal_ranks_keep_manifest_order() {
        let r = router(&["/:a/x", "/:b/:c", "/:d/y"]);
        assert_eq!(find(&r, "/1/x").unwrap().0, "/:a/x");
        assert_eq!(find(&r, "/1/y").unwrap().0, "/:d/y");
        let r = router(&["/:a", "/:b"]);
        assert_eq!(find(&r, "/1").unwrap().0, "/:a");
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
        assert_eq!(root.component_route(), "/", "Spin strips only a trailing `/...`");
        let all = Route::parse("/...");
        assert_eq!(all.based, "/...");
        assert_eq!(all.component_route(), "");
        assert_eq!(Route::parse("/static/...").component_route(), "/static");
        assert_eq!(Route::parse("/a/:x/b/:y_z").params().collect::<Vec<_>>(), ["x", "y_z"]);
    }

    #[test]
    fn last_duplicate_wins() {
        let (r, dups) = Router::build([(Route::parse("/a"), 1), (Route::parse("/a/"), 2)]);
        assert_eq!(r.find("/a").unwrap().1, &2);
        assert_eq!(dups.len(), 1);
    }
}
