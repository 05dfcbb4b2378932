use lmlog::lm_event;

fn main() {
    let status = 200u16;
    lm_event!(info, "request", status, path = "/", "status" = 404u16);
    lm_event!(info, "request", http.status = status, "http.status" = 404u16);
}
