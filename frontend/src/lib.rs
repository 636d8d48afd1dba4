//! The hydrate entry: the WASM half of Fanout's pages. The browser loads this and it takes over
//! the server-rendered HTML; everything it renders lives in the `app` crate.

/// Called by the generated JS loader once the WASM module is instantiated. Hydration is
/// asynchronous: a page behind a lazy route (`app::pages::lazy`) is hydrated once its WASM
/// chunk has loaded, and only then is the document marked hydrated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_from_async` starts Leptos' executor itself; this first future runs on the browser's.
    wasm_bindgen_futures::spawn_local(async {
        let mounted = leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App).await;
        mounted.forget();
        app::mark_hydrated();
    });
}
