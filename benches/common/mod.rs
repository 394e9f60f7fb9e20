//! What every benchmark shares: a real licd server on its own thread, serving the given
//! sockets until `stop`.

use licd::server::Sockets;
use licd::service::App;
use std::sync::Arc;
use std::thread::JoinHandle;

pub struct Server {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl Server {
    /// Starts `app` on `sockets` (actix runs on a system of its own, on a new thread).
    pub fn start(app: Arc<App>, sockets: Sockets) -> Server {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new()
                .block_on(licd::server::run(app, sockets, async {
                    let _ = stopped.await;
                }))
                .unwrap();
        });
        Server { stop, thread }
    }

    /// Shuts the server down and waits for it.
    pub fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().unwrap();
    }
}
