//! A TCP proxy between restoreplan and the emulator that can be taken
//! down: while down, its port refuses connections and every open
//! connection is closed, as when a network path or endpoint goes away.

use std::sync::mpsc;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// A running proxy (its thread lives as long as the test process).
pub struct Proxy {
    /// `http://127.0.0.1:PORT`, to use as the endpoint.
    pub endpoint: String,
    down: watch::Sender<bool>,
}

fn bind(port: u16) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(128)
}

impl Proxy {
    /// A proxy to `upstream` (`http://HOST:PORT`).
    pub fn start(upstream: &str) -> Proxy {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http endpoint")
            .trim_end_matches('/')
            .to_owned();
        let (down, mut rx) = watch::channel(false);
        let (tx, ready) = mpsc::channel::<u16>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let mut listener = bind(0).expect("bind the proxy");
                let port = listener.local_addr().expect("an address").port();
                let _ = tx.send(port);
                let mut conns = JoinSet::new();
                loop {
                    if *rx.borrow_and_update() {
                        // Down: nothing listens, every connection is cut.
                        drop(listener);
                        conns.abort_all();
                        while conns.join_next().await.is_some() {}
                        loop {
                            if rx.changed().await.is_err() {
                                return;
                            }
                            if !*rx.borrow_and_update() {
                                break;
                            }
                        }
                        listener = loop {
                            match bind(port) {
                                Ok(l) => break l,
                                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                            }
                        };
                        continue;
                    }
                    while conns.try_join_next().is_some() {}
                    tokio::select! {
                        accepted = listener.accept() => {
                            let Ok((mut client, _)) = accepted else { continue };
                            let upstream = upstream.clone();
                            conns.spawn(async move {
                                if let Ok(mut server) = TcpStream::connect(&upstream).await {
                                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                                }
                            });
                        }
                        changed = rx.changed() => {
                            if changed.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        });
        let port = ready.recv().expect("the proxy started");
        Proxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            down,
        }
    }

    /// Takes the path down (`true`) or brings it back (`false`).
    pub fn set_down(&self, down: bool) {
        self.down.send_replace(down);
    }
}
