//! The hydrate entry: the WASM half of Fanout's pages. The browser loads this and Leptos' islands
//! loader hydrates each island of the server-rendered HTML (the island functions live in the
//! `app` crate; this crate links them in).

// The islands' hydrate functions are exported from `app`; naming it keeps it linked.
pub use app::island_hydrated;

/// Called by Leptos' islands loader once the WASM module is instantiated, before it hydrates
/// the page's islands one by one: sets up the reactive root they hydrate under. The document is
/// marked hydrated by the islands themselves ([`app::island_hydrated`]).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
