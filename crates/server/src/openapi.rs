//! The OpenAPI 3.1 description of `/api/*`, checked in as `static/openapi.json` and served as is.
//! A test walks the router's route table and fails when a route is missing from the document.

use axum::http::header;
use axum::response::{IntoResponse, Response};

pub const DOCUMENT: &str = include_str!("../static/openapi.json");

pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_route_is_documented() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("openapi.json is JSON");
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
            Some(true)
        );
        let paths = doc["paths"].as_object().expect("paths");
        let routes = crate::api::route_table();
        assert!(routes.len() >= 10, "route table looks empty: {routes:?}");
        for (method, path) in &routes {
            if !path.starts_with("/api/") {
                continue;
            }
            let item = paths
                .get(*path)
                .unwrap_or_else(|| panic!("{path} is not in openapi.json"));
            assert!(
                item.get(method.to_lowercase()).is_some(),
                "{method} {path} is not in openapi.json"
            );
        }
        // And nothing documented that does not exist.
        for (path, item) in paths {
            for method in item
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
            {
                assert!(
                    routes
                        .iter()
                        .any(|(m, p)| p == path && m.eq_ignore_ascii_case(method)),
                    "openapi.json documents {method} {path}, which the router does not serve"
                );
            }
        }
    }
}
