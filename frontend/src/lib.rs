//! The hydrate entry: the WASM half of Fanout's pages. The browser loads this and it takes over
//! the server-rendered HTML; everything it renders lives in the `app` crate.

/// Called by the generated JS loader once the WASM module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    app::mark_hydrated();
}
