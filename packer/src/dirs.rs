//! Where packer keeps its caches: `$XDG_CACHE_HOME/bpf-compatible`, else
//! `~/.cache/bpf-compatible`.

use std::path::PathBuf;

use anyhow::{bail, Result};

/// The directory every packer cache lives under.
pub fn cache_home() -> Result<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(xdg) = from_env("XDG_CACHE_HOME") {
        return Ok(xdg.join("bpf-compatible"));
    }
    if let Some(home) = from_env("HOME") {
        return Ok(home.join(".cache").join("bpf-compatible"));
    }
    bail!(
        "cannot find a cache directory: neither XDG_CACHE_HOME nor HOME is set to an absolute path; \
         set one of them"
    )
}

/// The default btfhub-archive checkout of `packer fetch`.
pub fn btfhub_cache() -> Result<PathBuf> {
    Ok(cache_home()?.join("btfhub"))
}

/// The build cache (decoded kernels and minimised BTFs).
pub fn build_cache() -> Result<PathBuf> {
    Ok(cache_home()?.join("build"))
}
