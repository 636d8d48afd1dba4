//! The frame around every page: the header with its navigation (a menu button on narrow
//! screens, the one island every page has), the setup notice, and the footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::setup_notice::SetupNotice;

/// The page frame; `children` is the routed page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <div class="flex min-h-full flex-col">
            <Header />
            <main id="main" class="mx-auto w-full max-w-5xl flex-1 px-4 py-8 sm:px-6">
                <SetupNotice />
                {children()}
            </main>
            <footer class="border-t border-slate-200 py-6 text-center text-sm text-slate-500">
                "Fanout — one live, every volunteer's channels."
            </footer>
        </div>
    }
}

/// The site header. On narrow screens the navigation folds behind a menu button (Escape folds
/// it again); without scripting it is always shown. The links are plain links the server
/// renders (following one loads the page); only the menu is an island.
#[component]
fn Header() -> impl IntoView {
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-2 px-4 py-3 sm:px-6">
                <A href="/" attr:class="text-xl font-bold tracking-tight text-indigo-700">
                    "Fanout"
                </A>
                <SiteMenu>
                    <NavLink href="/" label="Sign up" />
                    // The server's admin gate decides (dashboard or sign-in).
                    <NavLink href="/admin" label="Admin" />
                </SiteMenu>
            </div>
        </header>
    }
}

/// The menu button and the navigation it folds (`children`: the links, rendered by the server).
#[island]
fn SiteMenu(children: Children) -> impl IntoView {
    let (menu_open, set_menu_open) = signal(false);
    close_on_escape(set_menu_open);
    crate::island_hydrated();

    view! {
        <button
            type="button"
            id="menu-button"
            class="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 sm:hidden noscript:hidden"
            aria-controls="site-nav"
            aria-expanded=move || menu_open.get().to_string()
            on:click=move |_| set_menu_open.update(|open| *open = !*open)
        >
            {move || if menu_open.get() { "Close menu" } else { "Menu" }}
        </button>
        <nav
            id="site-nav"
            aria-label="Main"
            class=move || {
                let shown = if menu_open.get() { "flex" } else { "hidden" };
                // Without scripting the menu button cannot work, so the navigation always shows.
                format!("{shown} w-full flex-col gap-1 noscript:flex sm:flex sm:w-auto sm:flex-row sm:gap-4")
            }
            // Following a link folds the menu.
            on:click=move |_| set_menu_open.set(false)
        >
            {children()}
        </nav>
    }
}

/// One navigation entry (marked as the current page where it leads there).
#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    view! {
        <A
            href=href
            exact=true
            attr:class="rounded-md px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700"
        >
            {label}
        </A>
    }
}

/// Folds the menu when Escape is pressed anywhere on the page (browser only).
#[cfg(feature = "hydrate")]
fn close_on_escape(set_open: WriteSignal<bool>) {
    use gloo::events::EventListener;
    use wasm_bindgen::JsCast;

    Effect::new(move |_| {
        let listener = EventListener::new(&gloo::utils::document(), "keydown", move |event| {
            let is_escape = event.dyn_ref::<web_sys::KeyboardEvent>().is_some_and(|key| key.key() == "Escape");
            if is_escape {
                set_open.set(false);
            }
        });
        // The header lives as long as the page; the listener goes with it.
        listener.forget();
    });
}

#[cfg(not(feature = "hydrate"))]
fn close_on_escape(_set_open: WriteSignal<bool>) {}
