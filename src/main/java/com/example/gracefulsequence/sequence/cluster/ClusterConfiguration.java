package com.example.gracefulsequence.sequence.cluster;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.sequence.SequenceHub;
import com.example.gracefulsequence.sequence.SequenceProperties;
import com.example.gracefulsequence.state.StateFileWriter;
import io.lettuce.core.ClientOptions.DisconnectedBehavior;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.resource.Delay;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.data.redis.autoconfigure.ClientResourcesBuilderCustomizer;
import org.springframework.boot.data.redis.autoconfigure.DataRedisProperties;
import org.springframework.boot.data.redis.autoconfigure.LettuceClientConfigurationBuilderCustomizer;
import org.springframework.boot.data.redis.autoconfigure.LettuceClientOptionsBuilderCustomizer;
import org.springframework.boot.health.registry.HealthContributorRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Cluster mode's beans. Their definitions exist in both modes, since the AOT-processed
 * jar decides every condition at build time; when the instance starts without
 * {@code sequence.cluster.enabled}, {@link LocalModeWithoutRedis} takes out those that
 * use Redis, with Spring Boot's, and the rest do nothing.
 *
 * @author graceful-sequence contributors
 */
@Configuration(proxyBeanMethods = false)
class ClusterConfiguration {

	/**
	 * In local mode, the Redis client's beans are taken out before any is created.
	 * @param environment the environment, which says the mode
	 * @return the post-processor that removes them
	 */
	@Bean
	static LocalModeWithoutRedis localModeWithoutRedis(Environment environment) {
		return new LocalModeWithoutRedis(environment);
	}

	@Bean
	ClusterSettings clusterSettings(SequenceProperties properties, DataRedisProperties redis) {
		return ClusterSettings.of(properties, redis.getTimeout());
	}

	@Bean
	RedisSequenceStore redisSequenceStore(StringRedisTemplate redis, RedisConnectionFactory connectionFactory,
			ClusterSettings settings) {
		return new RedisSequenceStore(redis, connectionFactory, settings.keep());
	}

	@Bean
	ClusterOrigin clusterOrigin(ClusterSettings settings, RedisSequenceStore store) {
		return new ClusterOrigin(settings, store);
	}

	@Bean
	ClusterSequence clusterSequence(ClusterSettings settings, ObjectProvider<RedisSequenceStore> store,
			ObjectProvider<ClusterOrigin> origin, SequenceHub hub, StateFileWriter stateFile, Clock clock,
			MeterRegistry registry, HealthContributorRegistry health) {
		return new ClusterSequence(settings, store.getIfAvailable(), origin.getIfAvailable(), hub, stateFile, clock,
				registry, health);
	}

	/**
	 * Lettuce queues commands without bound while it reconnects, by default: they would
	 * wait out their timeout one after the other. Rejected at once, the follower and the
	 * leader retry on their own schedule. A connection attempt is bounded as a command.
	 * @param settings the cluster's settings
	 * @param redis the Redis properties of Spring Boot
	 * @return the customizer of Lettuce's client options
	 */
	@Bean
	LettuceClientOptionsBuilderCustomizer boundedLettuceOptions(ClusterSettings settings, DataRedisProperties redis) {
		Duration connectTimeout = (redis.getConnectTimeout() != null
				&& redis.getConnectTimeout().compareTo(settings.timeout()) < 0) ? redis.getConnectTimeout()
						: settings.timeout();
		return (options) -> options.disconnectedBehavior(DisconnectedBehavior.REJECT_COMMANDS)
			.socketOptions(SocketOptions.builder().connectTimeout(connectTimeout).keepAlive(true).build());
	}

	/**
	 * Lettuce waits up to 30 s between two attempts to reconnect, by default: after Redis
	 * came back, the leader's connection would stay down long after the follower's new
	 * one is up. At most a second between attempts.
	 * @return the customizer of Lettuce's client resources
	 */
	@Bean
	ClientResourcesBuilderCustomizer promptLettuceReconnects() {
		return (resources) -> resources
			.reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS));
	}

	/**
	 * Lettuce's command timeout, bounded as {@link ClusterSettings#timeout()} says.
	 * @param settings the cluster's settings
	 * @return the customizer of Lettuce's client configuration
	 */
	@Bean
	LettuceClientConfigurationBuilderCustomizer boundedLettuceCommands(ClusterSettings settings) {
		return (configuration) -> configuration.commandTimeout(settings.timeout());
	}

}
