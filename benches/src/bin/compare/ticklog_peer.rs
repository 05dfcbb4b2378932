// Included into the crate root by `main.rs`: `ticklog::configure!` defines
// the level and backpressure as `#[macro_export]` macros that ticklog's
// logging macros call without a path, and such macros resolve only in the
// crate's root module.

pub struct Ticklog {
    _guard: ticklog::Guard,
}

impl Peer for Ticklog {
    const NAME: &'static str = "ticklog";
    const FILE: &'static str = "ticklog.log";

    fn start(dir: &Path) -> Self {
        let guard = ticklog::configure! {
            sink: ticklog::FileSink::new(dir.join(Self::FILE)).expect("create ticklog file"),
            max_level: ticklog::Level::Info,
            backpressure: ticklog::Backpressure::Block,
        }
        .expect("ticklog configure");
        Ticklog { _guard: guard }
    }

    #[inline(always)]
    fn cache_miss(&self, key: &str, shard: u32, latency_ms: f64) {
        ticklog::info!("cache_miss key={} shard={} latency_ms={}", key, shard, latency_ms);
    }

    #[inline(always)]
    fn order(&self, o: &Order<'_>) {
        // ticklog has no `Option` argument type; the `discount` is logged as
        // its value with NaN for `None`, which is what its users would write.
        ticklog::info!(
            "order id={} customer={} amount={} items={} express={} region={} discount={} retries={}",
            o.id,
            o.customer,
            o.amount,
            o.items,
            o.express,
            o.region,
            o.discount.unwrap_or(f32::NAN),
            o.retries
        );
    }

    #[inline(always)]
    fn disabled(&self, n: u32) {
        ticklog::debug!("verbose n={}", n);
    }

}
