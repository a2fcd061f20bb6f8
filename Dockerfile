FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir . && python manage.py compile_translations
ENV CASEAPP_VAR_DIR=/app/var
EXPOSE 8000
