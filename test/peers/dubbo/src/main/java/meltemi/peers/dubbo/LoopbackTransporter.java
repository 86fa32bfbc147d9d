package meltemi.peers.dubbo;

import java.net.InetSocketAddress;

import org.apache.dubbo.common.URL;
import org.apache.dubbo.remoting.ChannelHandler;
import org.apache.dubbo.remoting.Client;
import org.apache.dubbo.remoting.RemotingException;
import org.apache.dubbo.remoting.RemotingServer;
import org.apache.dubbo.remoting.Transporter;
import org.apache.dubbo.remoting.transport.netty4.NettyClient;
import org.apache.dubbo.remoting.transport.netty4.NettyServer;

/**
 * Dubbo's netty4 transport, kept on the loopback interface. Stock Dubbo treats any 127.x host as
 * "invalid": a server binds 0.0.0.0 and a client connects to the machine's first non-loopback address
 * instead (NetUtils.isInvalidLocalHost / filterLocalHost, AbstractServer, AbstractClient in 3.3.6). The
 * tests must listen and connect on 127.0.0.1 only, so this transport ("loopback", registered in
 * META-INF/dubbo) binds and connects to exactly the host of the URL.
 */
public class LoopbackTransporter implements Transporter {
    @Override
    public RemotingServer bind(URL url, ChannelHandler handler) throws RemotingException {
        return new NettyServer(url, handler) {
            @Override
            public InetSocketAddress getBindAddress() {
                return new InetSocketAddress("127.0.0.1", super.getBindAddress().getPort());
            }
        };
    }

    @Override
    public Client connect(URL url, ChannelHandler handler) throws RemotingException {
        return new NettyClient(url, handler) {
            @Override
            public InetSocketAddress getConnectAddress() {
                return new InetSocketAddress(getUrl().getHost(), getUrl().getPort());
            }
        };
    }
}
