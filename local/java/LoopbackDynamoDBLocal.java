/*
 * DynamoDB Local bound to 127.0.0.1. DynamoDBLocal.jar has no option for the address: its Jetty
 * server listens on every interface and DynamoDB Local accepts any credentials, so anyone on the
 * network could read and write the local table. This launcher builds the server from the same
 * command line arguments as the jar's own main (ServerRunner), sets the host of its connector to
 * the loopback address and starts it. Telemetry is not configured (as with -disableTelemetry).
 * local/dynamodb-local.ts compiles it once (javac) into a cache folder and runs it.
 */
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) ((ServerConnector) connector).setHost("127.0.0.1");
    proxy.safeStart();
    System.out.println("DynamoDB Local listening on 127.0.0.1");
    proxy.join();
  }
}
