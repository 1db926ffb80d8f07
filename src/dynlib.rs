//! C libraries opened at run time (`dlopen`) rather than linked: Tesseract, and leptonica
//! beside it. A machine without them still runs every command that does not need them, and
//! their absence is a clear error where they are needed.

use libloading::Library;

/// Declares `Api`, one function pointer per C function, and how to load them all from a
/// [`Library`]. Each use lives in its own module, with the signatures from the C header.
macro_rules! c_api {
    ($($field:ident = $symbol:literal: fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        /// The C functions we call, resolved once from the loaded library.
        struct Api {
            $($field: unsafe extern "C" fn($($arg),*) $(-> $ret)?,)*
            /// Keeps the functions above mapped; never dropped (the value lives in a static).
            _library: libloading::Library,
        }

        impl Api {
            fn load(library: libloading::Library) -> Result<Api, libloading::Error> {
                $(
                    // SAFETY: the symbol is declared with its signature from the library's C
                    // header; the pointer is used only while `library` is loaded, which is
                    // forever.
                    let $field = unsafe { *library.get(concat!($symbol, "\0").as_bytes())? };
                )*
                Ok(Api { $($field,)* _library: library })
            }
        }
    };
}
pub(crate) use c_api;

/// The first of `names` that loads, or every name's error.
///
/// # Safety
/// Loading runs the library's and its dependencies' initialisers: the caller vouches that
/// they have no preconditions left unmet.
pub(crate) unsafe fn open_first(names: &[&str]) -> Result<Library, String> {
    let mut errors = Vec::new();
    for &name in names {
        // SAFETY: passed on to the caller.
        match unsafe { Library::new(name) } {
            Ok(library) => return Ok(library),
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    }
    Err(errors.join("; "))
}
