package com.example.gracefulsequence.problem;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import tools.jackson.databind.BeanDescription;
import tools.jackson.databind.SerializationConfig;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.ser.BeanPropertyWriter;
import tools.jackson.databind.ser.ValueSerializerModifier;

import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;

/**
 * Has the application's {@code JsonMapper}, which Spring MVC, the error report valve and
 * the sequence's own refusals all write problems with, put a problem's members in the
 * order RFC 9457 lists them, {@code type} first; Jackson would sort them by name.
 * Extension members, such as {@code parameter}, follow.
 *
 * @author graceful-sequence contributors
 */
@Component
final class ProblemJsonModule extends SimpleModule {

	private static final List<String> MEMBERS = List.of("type", "title", "status", "detail", "instance");

	ProblemJsonModule() {
		super(ProblemJsonModule.class.getSimpleName());
		setSerializerModifier(new MemberOrder());
	}

	private static final class MemberOrder extends ValueSerializerModifier {

		@Override
		public List<BeanPropertyWriter> orderProperties(SerializationConfig config, BeanDescription.Supplier bean,
				List<BeanPropertyWriter> properties) {
			if (!ProblemDetail.class.isAssignableFrom(bean.getBeanClass())) {
				return properties;
			}
			List<BeanPropertyWriter> ordered = new ArrayList<>(properties);
			ordered.sort(Comparator.comparingInt((property) -> rank(property.getName())));
			return ordered;
		}

		private static int rank(String name) {
			int rank = MEMBERS.indexOf(name);
			return (rank >= 0) ? rank : MEMBERS.size();
		}

	}

}
